/**
 * `npm run bundle`: builds every function as CDK deploys it (core/bundling.ts) into .cache/bundles/
 * and prints each bundle's size and its largest inputs, and which exceed the 300 KB goal.
 */
import { BUNDLE_BUDGET_BYTES, bundleAll } from '../local/bundle';

{
  const reports = await bundleAll();
  const byPackage = (path: string) =>
    /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? '(this project)';
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  for (const r of reports) {
    const packages = new Map<string, number>();
    for (const i of r.largestInputs)
      packages.set(byPackage(i.path), (packages.get(byPackage(i.path)) ?? 0) + i.bytes);
    const top = [...packages].sort((a, b) => b[1] - a[1]).slice(0, 5);
    console.log(
      `${r.name.padEnd(18)} ${kb(r.bytes).padStart(9)} minified, ${kb(r.gzipBytes).padStart(8)} gzip  (${top.map(([p, n]) => `${p} ${kb(n)}`).join(', ')})`,
    );
  }
  const over = reports.filter((r) => r.bytes > BUNDLE_BUDGET_BYTES);
  if (over.length > 0) {
    // A report, not a gate: docs/deploy.md ("Bundle sizes") says why the functions exceed the goal.
    console.log(
      `over the ${BUNDLE_BUDGET_BYTES / 1024} KB goal: ${over.map((r) => r.name).join(', ')} (see docs/deploy.md, "Bundle sizes")`,
    );
  }
}
