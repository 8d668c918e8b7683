import { libraryTests } from '../../vitest.shared.ts';

export default libraryTests();
