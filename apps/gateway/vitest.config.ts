import { libraryTests } from '../../vitest.shared.ts';

// no-files-left fails the run when a test leaves a file in this folder (see there)
export default libraryTests({ globalSetup: ['./test/no-files-left.ts'] });
