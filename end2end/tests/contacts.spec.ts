import { test, expect, Browser } from "@playwright/test";
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { baseURL } from "../playwright.config";
import { waitForHydration } from "./support";

const password = "correct horse battery";

/** The marketer's own website, on another origin, with our snippet. */
function shopPage(trackerOrigin: string) {
  return `<!DOCTYPE html><html><head><title>Pricing · Shop</title>
<script>window.quizfunnel=window.quizfunnel||{q:[],track:function(){this.q.push(["track",arguments])},identify:function(){this.q.push(["identify",arguments])}};</script>
<script async src="${trackerOrigin}/t.js"></script></head>
<body><h1>Shop pricing</h1><p><a href="${trackerOrigin}/q/growth">Take our growth quiz</a></p></body></html>`;
}

// The shop is a second local origin: its own tiny server on loopback.
// `/down/...` pages load the script from where nothing listens.
let shopServer: Server;
let shop = "";
test.beforeAll(async () => {
  shopServer = createServer((req, res) => {
    const tracker = req.url?.startsWith("/down") ? "http://127.0.0.1:9" : baseURL;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(shopPage(tracker));
  });
  await new Promise<void>((resolve) => shopServer.listen(0, "127.0.0.1", resolve));
  shop = `http://127.0.0.1:${(shopServer.address() as AddressInfo).port}`;
});
test.afterAll(async () => {
  await new Promise((resolve) => shopServer.close(resolve));
});

/** Signs in as the owner, creating the account on a new install. */
async function signInAsOwner(browser: Browser) {
  const page = await (await browser.newContext()).newPage();
  await page.goto("/admin");
  if (page.url().endsWith("/setup")) {
    await page.getByLabel("Your email").fill("owner@example.com");
    await page.getByLabel(/^Password/).fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
  } else {
    await page.getByLabel("Email").fill("owner@example.com");
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  return page;
}

test("a visitor browses the marketer's site, is identified, and the contact page shows the whole history", async ({ browser }) => {
  // The owner allows the shop's origin to send events.
  const admin = await signInAsOwner(browser);
  await admin.goto("/admin/settings");
  await waitForHydration(admin);
  await admin.getByLabel("Sites allowed to send events (one origin per line)").fill(shop);
  await admin.getByRole("button", { name: "Save tracking settings" }).click();
  await expect(admin.getByText("Tracking settings saved.")).toBeVisible();

  // A visitor opens the pricing page of the shop, which loads /t.js.
  const visitor = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  visitor.on("pageerror", (e) => errors.push(e.message));
  const opened = Date.now();
  await visitor.goto(`${shop}/pricing?utm_source=newsletter`);
  await expect.poll(() => visitor.evaluate(() => (window as any).quizfunnel.loaded === true)).toBe(true);
  const visitorId = await visitor.evaluate(() => (window as any).quizfunnel.visitorId());
  expect(visitorId).toMatch(/^[0-9a-f]{12}[A-Za-z0-9_-]{8,52}$/);
  // It starts with the time it was made, so later visitors sort later.
  const made = parseInt(visitorId.slice(0, 12), 16);
  expect(made).toBeGreaterThanOrEqual(opened);
  expect(made).toBeLessThanOrEqual(Date.now());
  // The visitor id is first-party: a cookie on the shop's own origin.
  expect((await visitor.context().cookies(shop)).find((c) => c.name === "qf_vid")?.value).toBe(visitorId);

  // The shop tracks a custom event, then the visitor gives their email.
  await visitor.evaluate(() => (window as any).quizfunnel.track("invited_teammate", { team: "<b>growth</b>" }));
  await visitor.evaluate(() => (window as any).quizfunnel.identify("Lead@Example.com", { plan: "trial" }));

  // The owner finds the contact, with the whole history under one record.
  await admin.goto("/admin/contacts?q=lead%40example.com");
  await expect(async () => {
    await admin.reload();
    await admin.getByRole("link", { name: "lead@example.com" }).click({ timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(admin.getByRole("heading", { name: "lead@example.com", level: 1 })).toBeVisible();
  await expect(async () => {
    await admin.reload();
    await expect(admin.locator(".event-count")).toHaveText("2", { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  const timeline = admin.locator("ol.timeline");
  const event = (name: string) =>
    timeline.locator("li").filter({ has: admin.locator(".event-name", { hasText: new RegExp(`^${name}$`) }) });
  await expect(event("invited_teammate")).toContainText("<b>growth</b>");
  await expect(event("page_viewed")).toContainText('"path":"/pricing"');
  await expect(event("page_viewed")).toContainText('"utm_source":"newsletter"');
  await expect(admin.getByRole("row", { name: /plan\s+string\s+trial/ })).toBeVisible();
  await expect(admin.getByText(visitorId)).toBeVisible();
  expect(errors).toEqual([]);

  // The person asks to be forgotten: the owner exports, then erases them.
  await waitForHydration(admin);
  await admin.getByRole("button", { name: "Export as JSON" }).click();
  const download = admin.getByRole("link", { name: "Download the export" });
  await expect(download).toHaveAttribute("href", /lead%40example\.com/);
  await admin.getByLabel(/I understand this deletes the contact/).check();
  await admin.getByRole("button", { name: "Erase this contact" }).click();
  await expect(admin.getByRole("status")).toContainText("erased");
  await admin.reload();
  await expect(admin.getByRole("heading", { name: "No such contact" })).toBeVisible();
});

test("the marketer's page keeps working when quizfunnel is down", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${shop}/down/pricing`);
  await page.evaluate(() => (window as any).quizfunnel.track("clicked_buy", {}));
  await expect(page.getByRole("heading", { name: "Shop pricing" })).toBeVisible();
  expect(errors).toEqual([]);
});

test("a visitor tracked on the marketer's site takes the quiz from a link, and one contact holds both histories", async ({ browser }) => {
  const admin = await signInAsOwner(browser);
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(`${shop}/pricing`);
  await expect.poll(() => visitor.evaluate(() => (window as any).quizfunnel.loaded === true)).toBe(true);
  const visitorId = await visitor.evaluate(() => (window as any).quizfunnel.visitorId());

  // The snippet carries the visitor id on links to the quiz.
  await visitor.getByRole("link", { name: "Take our growth quiz" }).click();
  await expect(visitor).toHaveURL(new RegExp(`/q/growth\\?qf_vid=${visitorId}`));
  await waitForHydration(visitor);
  await visitor.getByLabel("Just exploring an idea").check();
  await visitor.getByRole("button", { name: "Next" }).click();
  await visitor.getByLabel("None yet").check();
  await visitor.getByRole("button", { name: "Next" }).click();
  await visitor.getByRole("button", { name: "Next" }).click();
  await visitor.getByLabel("Just me").check();
  await visitor.getByRole("button", { name: "Next" }).click();
  await visitor.getByLabel("Email").fill("quiz-taker@example.com");
  await visitor.getByRole("button", { name: "See my result" }).click();
  await expect(visitor.getByRole("heading", { name: "Start with the foundations" })).toBeVisible();

  // The contact page shows the page view on the shop and the quiz together.
  await admin.goto("/admin/contacts?q=quiz-taker%40example.com");
  await admin.getByRole("link", { name: "quiz-taker@example.com" }).click();
  await expect(admin.getByRole("heading", { name: "quiz-taker@example.com", level: 1 })).toBeVisible();
  const names = admin.locator("ol.timeline .event-name");
  await expect(names.first()).toHaveText("quiz_completed");
  // The shop's page view, then the quiz opened from its link, come before.
  await expect(names.filter({ hasText: /^page_viewed$/ })).toHaveCount(1);
  await expect(names.filter({ hasText: /^quiz_viewed$/ })).toHaveCount(1);
  await expect(admin.getByText(visitorId)).toBeVisible();
});
