import { expect, test } from "@playwright/test";
import { CRASH_VIN, signIn } from "./helpers";

const VIN = CRASH_VIN;

test("choose a range, export a bundle, verify it on /verify, see it disclosed", async ({ page }, testInfo) => {
  await signIn(page);
  await page.goto(`/vehicles/${VIN}/telemetry`);
  await page.getByTestId("export-view").click();
  await expect(page).toHaveURL(/\/export\?from=.*&to=/);
  await expect(page.getByTestId("export-estimate")).toContainText("samples");
  await expect(page.getByTestId("fingerprint")).toHaveText(/^[0-9a-f]{64}$/);

  await page.getByLabel(/Evidence bundle/).check();
  await page.getByLabel(/Rounded to about 1 km/).check();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download" }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(new RegExp(`^${VIN}-[0-9a-f]{32}\\.zip$`));
  const bundle = testInfo.outputPath("bundle.zip");
  await download.saveAs(bundle);

  await page.goto("/verify");
  await page.getByLabel("Bundle (zip)").setInputFiles(bundle);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("verify-result")).toContainText("Valid");
  await expect(page.getByTestId("verify-result")).toContainText(VIN);

  // A file that is not a bundle is refused with a reason.
  await page.getByLabel("Bundle (zip)").setInputFiles({
    name: "fake.zip",
    mimeType: "application/zip",
    buffer: Buffer.from("not a zip"),
  });
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("verify-result")).toContainText("not a readable zip");

  await page.goto(`/vehicles/${VIN}/access`);
  const row = page.getByTestId("access-log").locator("tbody tr").first();
  await expect(row).toContainText("bundle");
  await expect(row).toContainText("coarse");
});

test("prepare a large export in the background, watch it, download it with its size", async ({ page }) => {
  await signIn(page);
  await page.goto(`/vehicles/${VIN}/telemetry`);
  await page.getByTestId("export-view").click();
  await expect(page.getByTestId("export-estimate")).toContainText("samples");
  await page.getByRole("radio", { name: /^NDJSON \(the interchange/ }).check();
  await page.getByTestId("export-background").click();
  await expect(page).toHaveURL(new RegExp(`/vehicles/${VIN}/exports/[0-9a-f]{32}$`));
  // The page refreshes itself until the file is ready.
  await expect(page.getByTestId("export-job-state")).toHaveAttribute("data-state", "ready", { timeout: 30_000 });
  const progress = await page.getByTestId("export-job-progress").textContent();
  const [written, expected] = progress!.match(/(\d+) \/ (\d+)/)!.slice(1).map(Number);
  expect(written).toBeGreaterThan(0);
  expect(written).toBe(expected);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("export-job-download").click(),
  ]);
  expect(download.suggestedFilename()).toBe(`${VIN}.ndjson`);
  const lines = (await (await import("node:fs/promises")).readFile(await download.path(), "utf8")).trim().split("\n");
  expect(lines.filter((l) => l.includes('"kind":"sample"')).length).toBe(written);
});
