// Part of `npm test` (the scripts project's lint): reads every changeset in .changeset/ and
// assembles the release plan `changeset version` would apply, so a changeset it would refuse fails
// the suite instead of the next release. It catches what `changeset status` does without its git
// half (which changed packages lack a changeset: that needs the base branch, which a CI clone may
// not have): a changeset naming a package that is not in the workspace, a bump that is not major,
// minor or patch, and one that mixes ignored and versioned packages. It also refuses a changeset
// with no summary, which would become an empty changelog entry.
import getReleasePlanModule from '@changesets/get-release-plan';
import { fileURLToPath } from 'node:url';

// the package is CommonJS with an `exports.default`: Node's ESM import hands over the whole
// `module.exports`, TypeScript's types the function itself
type GetReleasePlan = typeof getReleasePlanModule;
const getReleasePlan: GetReleasePlan =
  (getReleasePlanModule as unknown as { default?: GetReleasePlan }).default ?? getReleasePlanModule;

const root = fileURLToPath(new URL('..', import.meta.url));

async function main(): Promise<number> {
  let plan;
  try {
    plan = await getReleasePlan(root);
  } catch (error) {
    process.stderr.write(`changesets: the release plan cannot be assembled\n${String(error)}\n`);
    return 1;
  }
  const problems: string[] = [];
  for (const changeset of plan.changesets) {
    if (changeset.summary.trim() === '') problems.push(`.changeset/${changeset.id}.md has no summary`);
    if (changeset.releases.length === 0) problems.push(`.changeset/${changeset.id}.md names no package`);
  }
  if (problems.length > 0) {
    process.stderr.write(`changesets:\n${problems.map((problem) => `  ${problem}`).join('\n')}\n`);
    return 1;
  }
  const releases = plan.releases
    .filter((release) => release.type !== 'none')
    .map((release) => `${release.name} ${release.oldVersion} -> ${release.newVersion}`);
  process.stdout.write(
    `changesets: ${plan.changesets.length} read; the next version: ${releases.length === 0 ? 'nothing to release' : releases.join(', ')}\n`,
  );
  return 0;
}

process.exitCode = await main();
