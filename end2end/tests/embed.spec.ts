import { test, expect } from "@playwright/test";
import { baseURL } from "../playwright.config";

test("a marketer's page embeds the quiz, which sizes itself to its content", async ({ page }) => {
  // Another site, served from another origin, with the one-line embed.
  await page.route("http://shop.localhost/landing?*", (route) =>
    route.fulfill({
      contentType: "text/html",
      body: `<!doctype html><html><body><h1>Our shop</h1>
        <script src="${baseURL}/embed/growth.js"></script></body></html>`,
    }),
  );
  // The shop's tracking snippet already knows this visitor.
  await page.context().addCookies([{ name: "qf_vid", value: "shop-visitor-0001", url: "http://shop.localhost/" }]);
  await page.goto("http://shop.localhost/landing?utm_source=shopnews&ref=x");
  // The quiz gets the page's campaign and the visitor, nothing else.
  await expect(page.locator("iframe[title=Quiz]")).toHaveAttribute(
    "src",
    `${baseURL}/q/growth?utm_source=shopnews&qf_vid=shop-visitor-0001`,
  );
  const frame = page.frameLocator("iframe[title=Quiz]");
  await expect(frame.getByRole("heading", { name: "Where is your business today?" })).toBeVisible();
  // The frame grows to its content rather than showing a scrollbar.
  await expect
    .poll(async () => (await page.locator("iframe[title=Quiz]").boundingBox())?.height ?? 0)
    .toBeGreaterThan(480);

  // The respondent takes the quiz inside the frame, step after step.
  await expect(frame.locator(".app[data-hydrated=true]")).toBeVisible();
  const entries = await page.evaluate(() => history.length);
  await frame.getByLabel("Growing, with paying customers").check();
  await frame.getByRole("button", { name: "Next" }).click();
  await expect(frame.getByRole("heading", { name: "What could you invest in growth each month?" })).toBeVisible();
  await frame.getByLabel("$1,000 to $10,000").check();
  await frame.getByRole("button", { name: "Next" }).click();
  await expect(frame.getByRole("heading", { name: "How urgent is fixing growth for you?" })).toBeVisible();
  // Back shows the answer given in this frame.
  await frame.getByRole("button", { name: "Back" }).click();
  await expect(frame.getByLabel("$1,000 to $10,000")).toBeChecked();
  // The host page's Back button stays the host page's.
  expect(await page.evaluate(() => history.length)).toBe(entries);
});
