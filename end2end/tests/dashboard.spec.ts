import { test, expect, Page } from "@playwright/test";
import { signInAsOwner, waitForHydration } from "./support";

/** The count of each tier on the dashboard, by tier. */
async function tierCounts(page: Page): Promise<Record<string, number>> {
  const pairs = await page.locator("li.tier").evaluateAll((items) =>
    items.map((li) => [li.getAttribute("data-tier"), Number(li.querySelector("a.number")?.textContent)]),
  );
  return Object.fromEntries(pairs);
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

test("the dashboard counts a completion live, and the count leads to that respondent", async ({ page, playwright }) => {
  await signInAsOwner(page);
  await waitForHydration(page);
  await expect(page.getByRole("status").filter({ hasText: /^(Live|Rebuilding \d+%)$/ })).toBeVisible();
  const before = await tierCounts(page);

  // A respondent finishes the quiz elsewhere (plain form posts).
  const email = `live-${Date.now()}@example.com`;
  const respondent = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL });
  await respondent.get("/q/growth");
  const steps: Record<string, string>[] = [
    { question: "stage", answer: "scaling" },
    { question: "budget", answer: "high" },
    { question: "urgency", answer: "5" },
    { question: "channels", answer: "ads" },
    { question: "blocker", answer: "No pipeline" },
    { question: "team", answer: "large" },
    { question: "contact", email, name: "Live Lee", consent: "on" },
  ];
  for (const form of steps) {
    const res = await respondent.post("/q/growth", { form, maxRedirects: 0 });
    expect(res.status()).toBe(303);
  }

  // The open dashboard counts them without a reload.
  await expect.poll(async () => total(await tierCounts(page))).toBe(total(before) + 1);
  const after = await tierCounts(page);
  const tier = Object.keys(after).find((t) => after[t] === before[t] + 1)!;
  expect(tier).toBeTruthy();

  // The count is a link to the people behind it.
  await page.locator(`li.tier[data-tier="${tier}"] a.number`).click();
  await expect(page.getByRole("heading", { name: "Leads", level: 1 })).toBeVisible();
  await page.getByLabel("Search email, name or company").fill(email);
  await page.getByRole("button", { name: "Show leads" }).click();
  await expect(page.getByRole("link", { name: email, exact: true })).toBeVisible();
});

test("the dashboard draws each tier's trend with its numbers, and a quiz's funnel", async ({ page }) => {
  await signInAsOwner(page);
  const trend = page.getByRole("img", { name: /Contacts per tier, last 30 days/ });
  await expect(trend).toBeVisible();
  // Each tier's line is drawn, in the color its legend shows.
  const line = trend.locator("polyline.series").first();
  const stroke = await line.evaluate((el) => getComputedStyle(el).stroke);
  expect(stroke).not.toBe("none");
  const swatch = page.locator(".trend .legend .swatch").first();
  expect(await swatch.evaluate((el) => getComputedStyle(el).borderTopColor)).toBe(stroke);
  await page.getByText("The numbers behind the chart").click();
  await expect(page.locator("details.trend-numbers table tbody tr").first()).toBeVisible();
  const funnel = page.getByRole("region", { name: "Quiz funnel" });
  await expect(funnel.getByText(/\d+ views · \d+ started · \d+ completed/)).toBeVisible();
  await expect(funnel.getByRole("rowheader", { name: "Where is your business today?" })).toBeVisible();
});

test("a funnel's stopped count lists the people who stopped there", async ({ page, playwright }) => {
  // A respondent from a source of their own answers two questions and leaves.
  const source = `stop-${Date.now()}`;
  const respondent = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL });
  await respondent.get(`/q/growth?utm_source=${source}`);
  for (const form of [
    { question: "stage", answer: "growing" },
    { question: "budget", answer: "mid" },
  ]) {
    const res = await respondent.post("/q/growth", { form, maxRedirects: 0 });
    expect(res.status()).toBe(303);
  }

  await signInAsOwner(page);
  await page.goto(`/admin?quiz=growth&source=${source}`);
  const funnel = page.getByRole("region", { name: "Quiz funnel" });
  const urgency = funnel.getByRole("row", { name: /^How urgent is fixing growth for you\?/ });
  await urgency.getByRole("link", { name: "1 stopped at How urgent is fixing growth for you?: see who" }).click();

  await expect(page.getByRole("heading", { name: "Contacts", level: 1 })).toBeVisible();
  await expect(page.locator("#contacts-stop")).toContainText(
    `Only people who stopped at “How urgent is fixing growth for you?” in What's holding your growth back? (UTM source ${source}), without finishing.`,
  );
  await expect(page.getByText("1 contact, latest activity first")).toBeVisible();
  await expect(page.getByRole("link", { name: /^Anonymous visitor #\d+$/ })).toHaveCount(1);

  // Another filter keeps the stop; "Show all contacts" drops it.
  await waitForHydration(page);
  await page.getByRole("checkbox", { name: "Has completed a quiz" }).check();
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/stopped_at=urgency/);
  await expect(page.getByText("No contacts match.")).toBeVisible();
  await page.getByRole("link", { name: "Show all contacts" }).click();
  await expect(page.locator("#contacts-stop")).toHaveCount(0);
  await expect(page.getByText(/^\d+ contacts, latest activity first$/)).toBeVisible();
});
