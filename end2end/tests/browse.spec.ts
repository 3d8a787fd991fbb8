import { expect, test, type Page } from "@playwright/test";
import { CRASH_VIN, hydrated, showLocation, signIn } from "./helpers";

const VIN = CRASH_VIN;

/** The numbers in the speed column of the samples table. */
async function speeds(page: Page): Promise<number[]> {
  const table = page.getByTestId("samples");
  const headers = await table.locator("thead th").evaluateAll((ths) => ths.map((th) => th.getAttribute("data-channel")));
  const column = headers.indexOf("speed_kmh") + 1;
  expect(column).toBeGreaterThan(0);
  const cells = await table.locator(`tbody tr td:nth-child(${column})`).allTextContents();
  return cells.map(Number);
}

test("vehicle → drive → filter by speed → event chart → crash record, with URL state", async ({ page }) => {
  await signIn(page);
  await page.goto("/account");
  await hydrated(page);
  await page.getByTestId("vehicle-link").filter({ hasText: VIN }).click();
  await expect(page).toHaveURL(new RegExp(`/vehicles/${VIN}$`));
  await expect(page.getByTestId("class-telemetry")).toContainText("1 Hz");
  await expect(page.getByTestId("class-crash")).toContainText("1");

  await page.getByRole("link", { name: "Drives" }).click();
  const firstDrive = page.getByTestId("drives").locator("tbody tr").first();
  await firstDrive.getByRole("link").click();
  await expect(page).toHaveURL(/\/telemetry\?from=.*&to=/);
  await expect(page.getByTestId("range")).toContainText("+08:00");
  await expect(page.locator('figure[data-chart="range"] g[data-channel="speed_kmh"] path.series')).toHaveCount(1);
  // The wide samples table scrolls inside its own region, which the keyboard reaches.
  const region = page.getByRole("region", { name: /^Table/ }).filter({ has: page.getByTestId("samples") });
  await expect(region).toHaveAttribute("tabindex", "0");
  await region.focus();
  await expect(region).toBeFocused();
  // Round times on a light grid, never the raw ends of the range.
  expect(await page.locator('figure[data-chart="range"] svg line.grid').count()).toBeGreaterThan(4);
  for (const label of await page.locator('figure[data-chart="range"] svg text.tick').allTextContents()) {
    expect(label).not.toMatch(/\.\d{4,}/);
  }

  await page.getByLabel("Speed at least (km/h)").fill("50");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/min_speed_kmh=50/);
  // The address changes before the filtered rows arrive: wait for them.
  await expect
    .poll(async () => {
      const shown = await speeds(page);
      return shown.length > 0 && shown.every((s) => s >= 50);
    })
    .toBe(true);
  const filtered = await speeds(page);
  const filteredUrl = page.url();

  // Reload and back/forward keep the whole state.
  await page.reload();
  await expect(page.getByLabel("Speed at least (km/h)")).toHaveValue("50");
  expect(await speeds(page)).toEqual(filtered);
  await page.goBack();
  await expect(page).not.toHaveURL(/min_speed_kmh/);
  await expect(page.getByLabel("Speed at least (km/h)")).toHaveValue("");
  await page.goForward();
  await expect(page).toHaveURL(filteredUrl);
  await expect(page.getByLabel("Speed at least (km/h)")).toHaveValue("50");

  // Crash events → the collision → its window chart and EDR record.
  await page.getByRole("link", { name: "Events" }).click();
  await page.locator('select[name="group"]').selectOption("crash");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/group=crash/);
  const collision = page.getByTestId("events").locator("tbody tr", { has: page.locator('[data-event-type="collision"]') });
  await expect(collision.locator("[data-event-type]")).toHaveText("Collision");
  await collision.getByRole("link").click();
  const detail = page.getByTestId("event-detail");
  await expect(detail.locator('figure[data-chart="window"] svg line.marker')).toHaveCount(1);
  await expect(detail.locator('figure[data-chart="window"] g[data-channel="speed_kmh"] path.series')).toBeVisible();
  // The event's window reads from 15 s before it to 15 s after; the crash pulse in ms.
  const window = detail.locator('figure[data-chart="window"] svg');
  await expect(window.locator("text.tick", { hasText: "−15 s" })).toHaveCount(1);
  await expect(window.locator("text.tick", { hasText: "+15 s" })).toHaveCount(1);
  await expect(page.locator('figure[data-chart="delta-v"] svg text.tick', { hasText: "+100 ms" })).toHaveCount(1);
  const record = page.getByTestId("crash-record");
  await expect(record.getByTestId("max-dv")).toHaveText("-38.2");
  await expect(record.getByTestId("airbags")).toContainText("Driver front");
  await expect(record.getByTestId("limitations")).toContainText("not synchronised");
  await expect(record.getByTestId("cross-check")).toContainText("compared");

  // The event's window opens in the telemetry browser.
  await detail.getByTestId("browse-range").click();
  await expect(page).toHaveURL(/\/telemetry\?from=/);
  await expect(page.getByTestId("samples")).toBeVisible();
});

test("the overview says what happened lately: 90 days, each day a link to its drives, the newest events", async ({ page }) => {
  await signIn(page);
  await page.goto(`/vehicles/${VIN}`);
  const calendar = page.getByTestId("calendar");
  await expect(calendar.locator("[data-date]")).toHaveCount(90);
  // The total is the sum of the days.
  const perDay = await calendar.locator("a[data-drives]").evaluateAll((days) => days.map((d) => Number(d.getAttribute("data-drives"))));
  const total = Number(await page.getByTestId("activity-drives").textContent());
  expect(total).toBeGreaterThan(0);
  expect(perDay.reduce((a, b) => a + b, 0)).toBe(total);
  // A day says what happened in words, and opens its drives.
  const day = calendar.locator('a[data-drives]:not([data-drives="0"])').last();
  await expect(day).toHaveAttribute("aria-label", /drives: \d+/);
  const drives = Number(await day.getAttribute("data-drives"));
  await day.click();
  await expect(page).toHaveURL(/\/drives\?from=\d{4}-\d{2}-\d{2}T00:00/);
  await expect(page.getByTestId("drives").locator("tbody tr")).toHaveCount(drives);
  await page.goBack();
  // The newest crash event opens its page, which names the same kind of event.
  const crashType = (await page.getByTestId("latest-crash").locator("[data-event-type]").textContent())!;
  expect(["Collision", "Airbag deployment"]).toContain(crashType);
  await page.getByTestId("latest-crash").getByRole("link").click();
  await expect(page).toHaveURL(/\/events\/[^/]+$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(crashType);
});

test("one chart reads every channel at the pointer or the arrow keys, and a selected span zooms in; back returns", async ({ page }) => {
  await signIn(page);
  await page.goto(`/vehicles/${VIN}/telemetry?col=speed_kmh&col=brake_pressure_bar`);
  await page.getByRole("link", { name: "This day" }).click();
  await expect(page).toHaveURL(/from=/);
  await hydrated(page);
  const before = new URL(page.url());
  const svg = page.locator('figure[data-chart="range"] svg');
  // Every charted channel is a lane of the one drawing, on one time axis.
  await expect(svg.locator("g.lane")).not.toHaveCount(0);
  await expect(svg.locator('g.lane[data-channel="speed_kmh"]')).toHaveCount(1);
  await svg.scrollIntoViewIfNeeded();
  const box = (await svg.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  const readout = page.getByTestId("cursor-readout");
  await expect(page.getByTestId("chart-cursor")).toBeVisible();
  await expect(readout).toContainText("Speed: ");
  await expect(readout).toContainText(/km\/h|–/);
  // The arrow keys step from sample to sample.
  await svg.focus();
  await page.keyboard.press("Home");
  const first = (await readout.locator("strong").textContent())!;
  await page.keyboard.press("ArrowRight");
  await expect(readout.locator("strong")).not.toHaveText(first);

  // Dragging across 30 % … 60 % of the drawing zooms to that span.
  const span = (u: URL) => Date.parse(u.searchParams.get("to")!) - Date.parse(u.searchParams.get("from")!);
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await expect(page).not.toHaveURL(before.href);
  const zoomed = new URL(page.url());
  expect(span(zoomed)).toBeLessThan(span(before) * 0.5);
  expect(zoomed.searchParams.getAll("col")).toEqual(["speed_kmh", "brake_pressure_bar"]);
  await page.goBack();
  await expect(page).toHaveURL(before.href);

  // The keyboard selects too: Shift with the arrows, then Enter.
  await hydrated(page);
  await svg.focus();
  await page.keyboard.press("Home");
  for (let i = 0; i < 3; i++) await page.keyboard.press("Shift+PageDown");
  await page.keyboard.press("Enter");
  await expect(page).not.toHaveURL(before.href);
  expect(span(new URL(page.url()))).toBeLessThan(span(before));
});

test("a drive's route appears once the owner turns location on, drawn here with nothing fetched", async ({ page, baseURL }) => {
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  await signIn(page);
  await showLocation(page, false);
  await page.goto(`/vehicles/${VIN}/drives`);
  await page.getByTestId("drives").locator("tbody tr").first().getByRole("link").click();
  await expect(page.getByTestId("route-hidden")).toBeVisible();
  await expect(page.getByTestId("route")).toHaveCount(0);
  const drive = page.url();

  await page.getByRole("link", { name: "Turn it on in your account" }).click();
  await expect(page).toHaveURL(/\/account/);
  await showLocation(page, true);
  await page.goto(drive);
  const route = page.getByTestId("route");
  await expect(route.locator("path.route-line")).toHaveAttribute("d", /^M[\d.]+,[\d.]+L/);
  await expect(route.getByTestId("route-start")).toHaveCount(1);
  await expect(route.getByTestId("route-end")).toHaveCount(1);
  await expect(route.getByTestId("route-scale")).toContainText(/\d+ k?m/);
  await expect(route.locator(".route-north")).toHaveCount(1);

  // Around a brake event, the event is on its route.
  await page.goto(`/vehicles/${VIN}/events?group=brake`);
  await page.getByTestId("events").locator("tbody tr a").first().click();
  await expect(page.getByTestId("route").locator("g.route-event").first()).toHaveAttribute("data-event-type", /^(hard_brake|abs_activation|aeb_activation)$/);

  // Off again: gone.
  await showLocation(page, false);
  await page.goto(drive);
  await expect(page.getByTestId("route-hidden")).toBeVisible();
  // Every request went to the portal itself: no map tiles, no fonts, nothing else.
  expect(requests.filter((u) => !u.startsWith(baseURL!))).toEqual([]);
});

test("a view in Chinese names its units and keeps the vehicle's offset", async ({ page, context }) => {
  await signIn(page);
  await context.addCookies([{ name: "i18n_pref_locale", value: "zh-CN", url: page.url() }]);
  await page.goto(`/vehicles/${VIN}/events?group=brake`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("事件");
  await expect(page.getByTestId("events").locator("tbody tr").first()).toContainText("+08:00");
  // The car's words are in the reader's language too: event types, channels, codes.
  await expect(page.getByTestId("events").locator("[data-event-type]").first()).toHaveText(/^(急刹车|ABS 介入|自动紧急制动)$/);
  await page.goto(`/vehicles/${VIN}/telemetry?col=speed_kmh&col=gear&col=abs_active`);
  const samples = page.getByTestId("samples");
  await expect(samples.locator('th[data-channel="speed_kmh"]')).toHaveText("车速 (km/h)");
  await expect(samples.locator('th[data-channel="gear"]')).toHaveText("挡位");
  await expect(samples.locator("tbody tr").first().locator("td").nth(2)).toHaveText(/^(P 驻车挡|R 倒挡|N 空挡|D 前进挡|)$/);
  await expect(samples.locator("tbody tr").first().locator("td").nth(3)).toHaveText(/^(是|否|)$/);
  await expect(page.locator('fieldset.columns label[title]').first()).toContainText("车速");
});

test.describe("on a 390 px phone", () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test("the filters fold behind one button that says what is filtered, and nothing overflows", async ({ page }) => {
    await signIn(page);
    await page.goto(`/vehicles/${VIN}/telemetry?min_speed_kmh=50&abs_active=true`);
    const fold = page.getByTestId("filters-fold");
    await expect(fold).toBeVisible();
    await expect(fold).toContainText("Speed ≥ 50 km/h");
    await expect(fold).toContainText("ABS active: Yes");
    await expect(page.getByTestId("filters")).toBeHidden();
    // The data comes first: the chart is on the first screen.
    await expect(page.locator('figure[data-chart="range"]')).toBeInViewport();
    await fold.click();
    await expect(page.getByTestId("filters")).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);

    // The events list folds its filters the same way.
    await page.goto(`/vehicles/${VIN}/events?group=crash`);
    await expect(page.getByTestId("filters-fold")).toContainText("Crash (collision, airbag)");
    await expect(page.getByTestId("event-filters")).toBeHidden();
    await expect(page.getByTestId("events")).toBeInViewport();

    // No owner page is wider than the phone, and chart labels stay legible
    // (drawn at least 9 px high although the drawing is scaled down).
    for (const path of [`/vehicles/${VIN}/drives`, `/vehicles/${VIN}/telemetry`, `/vehicles/${VIN}/export`, `/vehicles/${VIN}/access`, "/account", "/verify"]) {
      await page.goto(path);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), path).toBeLessThanOrEqual(0);
    }
    await page.goto(`/vehicles/${VIN}/telemetry`);
    const heights = await page.locator("svg.chart-svg text.tick").evaluateAll((ts) => ts.filter((t) => t.getBoundingClientRect().height > 0).map((t) => t.getBoundingClientRect().height));
    expect(heights.length).toBeGreaterThan(3);
    expect(Math.min(...heights)).toBeGreaterThanOrEqual(9);

    // The 90-day strip fits the phone's width.
    await page.goto(`/vehicles/${VIN}`);
    const calendar = page.getByTestId("calendar");
    await expect(calendar).toBeVisible();
    const box = (await calendar.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the telemetry browser filters and pages with plain links and forms", async ({ page }) => {
    await signIn(page);
    await page.goto(`/vehicles/${VIN}/telemetry`);
    await expect(page.getByTestId("samples")).toBeVisible();
    await expect(page.locator('figure[data-chart="range"] svg')).toBeVisible();
    await page.getByLabel("Speed at least (km/h)").fill("60");
    await page.locator('select[name="order"]').selectOption("desc");
    await page.getByRole("button", { name: "Show" }).click();
    await expect(page).toHaveURL(/min_speed_kmh=60/);
    const first = await speeds(page);
    expect(first.every((s) => s >= 60)).toBe(true);
    await page.getByTestId("next-page").click();
    await expect(page).toHaveURL(/cursor=/);
    expect((await speeds(page)).every((s) => s >= 60)).toBe(true);
  });

  test("every view shows its data: the 90 days, drives, events, an event's charts and its crash record", async ({ page }) => {
    await signIn(page);
    await page.goto(`/vehicles/${VIN}`);
    await expect(page.getByTestId("class-telemetry")).toBeVisible();
    await expect(page.getByTestId("calendar").locator("[data-date]")).toHaveCount(90);
    await expect(page.getByTestId("latest-drive").getByRole("link")).toBeVisible();
    await page.goto(`/vehicles/${VIN}/drives`);
    await expect(page.getByTestId("drives").locator("tbody tr").first()).toBeVisible();
    await page.goto(`/vehicles/${VIN}/events?group=crash`);
    const collision = page.getByTestId("events").locator("tbody tr", { has: page.locator('[data-event-type="collision"]') });
    await collision.getByRole("link").click();
    await expect(page.locator('figure[data-chart="window"] svg g.lane')).not.toHaveCount(0);
    await expect(page.locator("details.window-table table tbody tr").first()).toBeAttached();
    await expect(page.getByTestId("crash-record")).toBeVisible();
    await expect(page.getByTestId("crash-record")).toContainText("Yes");
  });
});
