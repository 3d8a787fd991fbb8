import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { CRASH_VIN, hydrated, portal, showLocation, signIn, totp } from "./helpers";

// axe-core's WCAG 2.0–2.2 A and AA rules on every page, for the owner and
// for support staff, in both languages and both colour schemes. Any
// violation fails the test, listed by rule and element.
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
const LANGUAGES = ["en", "zh-CN"] as const;
const SCHEMES = ["light", "dark"] as const;

/** The violations on one page, each with the elements it was found on. */
async function violations(page: Page, path: string): Promise<string[]> {
  await page.goto(path);
  await hydrated(page);
  return describe(path, (await new AxeBuilder({ page }).withTags(WCAG).analyze()).violations);
}

function describe(path: string, found: Awaited<ReturnType<AxeBuilder["analyze"]>>["violations"]): string[] {
  return found.map(
    (v) =>
      `${path}: ${v.id} (${v.impact}): ${v.help}\n` +
      v.nodes.map((n) => `    ${n.target.join(" ")}: ${n.failureSummary?.split("\n").slice(1).join(" ")}`).join("\n"),
  );
}

/** Every page of `paths`, all checked before the test fails. */
async function checkPages(page: Page, paths: string[]) {
  const found: string[] = [];
  for (const path of paths) {
    found.push(...(await violations(page, path)));
  }
  expect(found, `${found.length} WCAG violations`).toEqual([]);
}

async function useLanguage(page: Page, language: string, baseURL: string | undefined) {
  await page.context().addCookies([{ name: "i18n_pref_locale", value: language, url: baseURL! }]);
}

/** The href of the first link in the events list of a query. */
async function firstEvent(page: Page, vin: string, query: string): Promise<string> {
  await page.goto(`/vehicles/${vin}/events?${query}`);
  return (await page.getByTestId("events").locator("tbody tr a").first().getAttribute("href"))!;
}

for (const language of LANGUAGES) {
  for (const scheme of SCHEMES) {
    test.describe(`${language}, ${scheme} scheme`, () => {
      test.use({ colorScheme: scheme });

      test("the public pages", async ({ page, baseURL }) => {
        await useLanguage(page, language, baseURL);
        await checkPages(page, ["/", "/signin", "/signup", "/verify", "/transparency", "/no/such/page"]);
      });

      test("every page of an owner", async ({ page, baseURL }) => {
        test.setTimeout(120_000);
        await signIn(page);
        // With location on, so the routes on the telemetry and event pages are checked too.
        await showLocation(page, true);
        await useLanguage(page, language, baseURL);
        const brake = await firstEvent(page, CRASH_VIN, "group=brake");
        const crash = await firstEvent(page, CRASH_VIN, "group=crash");
        const vehicle = `/vehicles/${CRASH_VIN}`;
        await checkPages(page, [
          "/",
          "/account",
          "/account/privacy-zones",
          vehicle,
          `${vehicle}/drives`,
          `${vehicle}/telemetry`,
          `${vehicle}/telemetry?col=speed_kmh&col=brake_pressure_bar&col=abs_active&col=aeb_state`,
          `${vehicle}/events`,
          brake,
          crash,
          `${vehicle}/export`,
          `${vehicle}/access`,
          `${vehicle}/sharing`,
          `${vehicle}/live`,
          `${vehicle}/dictionary`,
          "/verify",
        ]);
      });

      test("every page of support staff, inside a case", async ({ page, baseURL }) => {
        test.setTimeout(120_000);
        const account = `a11y-${language}-${scheme}@example.com`;
        const created = portal("admin", "add-staff", account, "--role", "support");
        const password = created.match(/first password \(shown once\): (\S+)/)![1];
        const secret = created.match(/enter the secret by hand: (\S+)/)![1];
        await page.goto("/signin");
        await page.getByLabel("E-mail or phone number").fill(account);
        await page.getByLabel("Password").fill(password);
        await page.getByLabel("One-time code (staff only)").fill(totp(secret));
        await page.getByRole("button", { name: "Sign in" }).click();
        await expect(page).toHaveURL(/\/staff$/);
        await page.getByTestId("lookup-q").fill(CRASH_VIN);
        await page.getByRole("button", { name: "Look up" }).click();
        const result = page.getByTestId("lookup-result");
        await result.getByLabel("Subject").fill("Accessibility check");
        await result.getByLabel("Purpose (shown to the owner)").fill("check the pages staff read");
        await result.getByRole("button", { name: "Open a case on this vehicle" }).click();
        await expect(page).toHaveURL(/\/staff\/cases\/C-\d{4}-\d{6}$/);
        const casePath = new URL(page.url()).pathname;
        const event = (await page.getByTestId("case-events").locator("tbody tr a").first().getAttribute("href"))!;

        await useLanguage(page, language, baseURL);
        const found: string[] = [];
        for (const path of [casePath, event, "/staff/api"]) {
          found.push(...(await violations(page, path)));
        }
        // The staff home with a lookup result on it.
        await page.goto("/staff");
        await hydrated(page);
        await page.getByTestId("lookup-q").fill(CRASH_VIN);
        await page.getByTestId("lookup-q").press("Enter");
        await expect(page.getByTestId("lookup-result")).toBeVisible();
        found.push(...describe("/staff (with a lookup)", (await new AxeBuilder({ page }).withTags(WCAG).analyze()).violations));
        expect(found, `${found.length} WCAG violations`).toEqual([]);
      });
    });
  }
}

/** The contrast ratio of two CSS colours (WCAG's relative luminance). */
function contrast(a: number[], b: number[]): number {
  const lum = (c: number[]) => {
    const [r, g, bl] = c.map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

for (const scheme of SCHEMES) {
  test.describe(`${scheme} scheme`, () => {
    test.use({ colorScheme: scheme });

    test("chart lines, markers, routes and active days stand out 3:1 from their background", async ({ page }) => {
      await signIn(page);
      await showLocation(page, true);
      const measure = (selector: string, property: "stroke" | "borderTopColor") =>
        page.locator(selector).first().evaluate((el, property) => {
          const rgb = (s: string) => (s.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
          // A border stands against what is around the element, not its own fill.
          let bg: Element | null = property === "stroke" ? el : el.parentElement;
          while (bg && /rgba\(0, 0, 0, 0\)|transparent/.test(getComputedStyle(bg).backgroundColor)) bg = bg.parentElement;
          return [rgb((getComputedStyle(el) as any)[property]), rgb(bg ? getComputedStyle(bg).backgroundColor : "rgb(255, 255, 255)")];
        }, property);
      const checks: [string, string, "stroke" | "borderTopColor"][] = [
        [`/vehicles/${CRASH_VIN}/telemetry`, "svg.chart-svg path.series", "stroke"],
        [`/vehicles/${CRASH_VIN}/telemetry`, "svg.route-svg path.route-line", "stroke"],
        [await firstEvent(page, CRASH_VIN, "group=brake"), "svg.chart-svg line.marker", "stroke"],
        [`/vehicles/${CRASH_VIN}`, "a.day.level-1, a.day.level-2, a.day.level-3, a.day.level-4", "borderTopColor"],
      ];
      for (const [path, selector, property] of checks) {
        await page.goto(path);
        const [fg, bg] = await measure(selector, property);
        expect(contrast(fg, bg), `${selector} on ${path}: ${fg} against ${bg}`).toBeGreaterThanOrEqual(3);
      }
    });
  });
}
