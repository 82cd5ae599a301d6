import { test, expect } from "@playwright/test";
import { signInAsOwner, waitForHydration } from "./support";

test("a marketer writes a segment rule, sees whom it matches before saving, and the saved count matches the members list", async ({ page }) => {
  await signInAsOwner(page);
  await page.goto("/admin/segments");
  await waitForHydration(page);
  await page.getByRole("link", { name: "New segment" }).click();
  await expect(page.getByRole("heading", { name: "New segment", level: 1 })).toBeVisible();
  await waitForHydration(page);

  await page.getByLabel("Name").fill("Hot leads");
  await page.getByLabel("Slug").fill("hot-leads");
  const rule = page.getByLabel("Rule");

  // A rule that does not read is named at its place, before any save,
  // politely: it is what half-typed rules look like.
  await rule.fill("all(completed(growth), score(growth) >= 7");
  await expect(page.getByRole("region", { name: "Preview" }).getByRole("status")).toContainText("line 1");
  await expect(page.getByRole("region", { name: "Preview" }).getByRole("alert")).toHaveCount(0);

  await rule.fill("all(completed(growth), score(growth) >= 7, never(invited_teammate))");
  const preview = page.getByRole("region", { name: "Preview" });
  const matches = preview.getByText(/^Matches \d+ contacts now$/);
  await expect(matches).toBeVisible();
  const count = Number((await matches.textContent())!.match(/\d+/)![0]);
  expect(count).toBeGreaterThan(0);
  await expect(preview.getByRole("listitem")).toHaveCount(Math.min(count, 10));

  await page.getByRole("button", { name: "Save segment" }).click();
  await expect(page).toHaveURL(/\/admin\/segments\/\d+$/);
  await expect(page.getByRole("heading", { name: "Hot leads", level: 1 })).toBeVisible();
  // Memberships are rebuilt in the background, with the progress shown.
  await expect(page.getByText("Memberships up to date.")).toBeVisible();
  const members = page.getByRole("region", { name: /^Members/ });
  await expect(members.getByRole("heading", { name: `Members (${count})` })).toBeVisible();
  await expect(members.getByRole("listitem")).toHaveCount(Math.min(count, 100));

  // A member's contact page says why they are in it, rule part by part.
  await members.getByRole("link").first().click();
  await expect(page).toHaveURL(/\/admin\/contacts\/\d+$/);
  const why = page.getByRole("region", { name: "Segments: why in, why not" });
  const verdict = why.locator("details", { hasText: "In Hot leads" });
  await verdict.getByText("In Hot leads").click();
  await expect(verdict.getByText("never(invited_teammate)", { exact: true })).toBeVisible();
  await expect(verdict.getByText("invited_teammate: 0 times ever, needs none")).toBeVisible();
  await expect(verdict.locator(".mark.fails")).toHaveCount(0);

  // The list shows the same live count.
  await page.goto("/admin/segments");
  const row = page.getByRole("row", { name: /Hot leads/ });
  await expect(row.getByRole("cell").last()).toHaveText(String(count));
});

test("a marketer adds a segment to the tier playbook, moves it up and saves; the order and counts are kept", async ({ page }) => {
  await signInAsOwner(page);
  await page.goto("/admin/segments");
  await waitForHydration(page);
  const playbook = page.getByRole("region", { name: "Tier playbook" });
  await expect(playbook.getByText("1. Fast-track sales")).toBeVisible();
  const tiers = playbook.locator("li.tier");
  const before = await tiers.count();

  await playbook.getByLabel("Add a tier").selectOption({ label: "Hot leads" });
  await playbook.getByRole("button", { name: "Add tier" }).click();
  await expect(playbook.getByText(`${before + 1}. Hot leads`)).toBeVisible();
  await expect(tiers.last()).toContainText("counted once saved");
  await playbook.getByRole("button", { name: "Move Hot leads up" }).click();
  await expect(playbook.getByText(`${before}. Hot leads`)).toBeVisible();
  // The keyboard stays with the moved tier.
  await expect(playbook.getByRole("button", { name: "Move Hot leads up" })).toBeFocused();
  // Each tier shows which result its respondents see.
  await expect(tiers.first().getByLabel("Result shown")).toHaveValue("ready");
  const hot = tiers.nth(before - 1);
  await expect(hot.getByLabel("Result shown")).toHaveValue("");
  await hot.getByLabel("Result shown").selectOption("consider");

  // Leaving with the change unsaved asks first; staying keeps it.
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    void dialog.dismiss();
  });
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Dashboard" }).click();
  await expect.poll(() => asked).toContain("not saved");
  await expect(page).toHaveURL(/\/admin\/segments$/);
  await expect(hot.getByLabel("Result shown")).toHaveValue("consider");

  await playbook.getByRole("button", { name: "Save playbook" }).click();
  await expect(playbook.getByRole("status")).toHaveText("Playbook saved.");

  await page.reload();
  await expect(playbook.getByText(`${before}. Hot leads`)).toBeVisible();
  await expect(hot).toContainText(/\d+ contacts \(\d+%\)/);
  await expect(hot.getByLabel("Result shown")).toHaveValue("consider");
  // Saved: leaving asks nothing.
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Dashboard" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
});

test("a marketer sets how few contacts make a tier too small; the playbook and the dashboard warn by it", async ({ page }) => {
  await signInAsOwner(page);
  await page.goto("/admin/segments");
  await waitForHydration(page);
  const playbook = page.getByRole("region", { name: "Tier playbook" });
  const threshold = playbook.getByLabel("Warn when a tier has fewer contacts than");
  await expect(threshold).toHaveValue("30");
  await expect(playbook.getByText("1. Fast-track sales")).toBeVisible();
  const tiers = playbook.locator("li.tier");
  const warnings = playbook.locator("li.tier .warning");
  const warnedBefore = await warnings.count();

  // The browser itself refuses a threshold below one.
  await threshold.fill("0");
  await playbook.getByRole("button", { name: "Save", exact: true }).click();
  expect(await threshold.evaluate((el: HTMLInputElement) => el.validity.rangeUnderflow)).toBe(true);

  await threshold.fill("100000");
  await playbook.getByRole("button", { name: "Save", exact: true }).click();
  await expect(warnings).toHaveCount(await tiers.count());
  await expect(warnings.first()).toContainText("fewer than 100000 are too few");
  await page.goto("/admin");
  await expect(page.getByText("Fewer than 100000 contacts").first()).toBeVisible();

  // Back to the advice, for the other tests.
  await page.goto("/admin/segments");
  await waitForHydration(page);
  await threshold.fill("30");
  await playbook.getByRole("button", { name: "Save", exact: true }).click();
  await expect(warnings).toHaveCount(warnedBefore);
  await expect(threshold).toHaveValue("30");
});

test("a marketer makes a segment tag whoever enters it; a webhook to a private address is refused", async ({ page }) => {
  await signInAsOwner(page);
  await page.goto("/admin/segments");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Fast-track sales" }).click();
  await expect(page.getByRole("heading", { name: "Fast-track sales", level: 1 })).toBeVisible();
  await waitForHydration(page);
  const actions = page.getByRole("region", { name: "When a contact enters" });
  await expect(actions.getByText("Nothing happens yet.")).toBeVisible();

  await actions.getByLabel("Do this").selectOption({ label: "Send a signed webhook" });
  await actions.getByLabel("Webhook URL").fill("http://127.0.0.1:9/hook");
  await actions.getByRole("button", { name: "Add action" }).click();
  await expect(actions.locator("#action-url-error")).toContainText("private");
  await expect(actions.getByText("Nothing happens yet.")).toBeVisible();

  await actions.getByLabel("Do this").selectOption({ label: "Tag the contact" });
  await actions.getByLabel("Tag", { exact: true }).fill("hot");
  await actions.getByRole("button", { name: "Add action" }).click();
  await expect(actions.getByText("Tag “hot”")).toBeVisible();
  await page.reload();
  await expect(actions.getByText("Tag “hot”")).toBeVisible();
  await waitForHydration(page);
  await actions.getByRole("button", { name: "Remove: Tag “hot”" }).click();
  await expect(actions.getByText("Nothing happens yet.")).toBeVisible();
});

test("a marketer deletes a segment nobody uses, after confirming; a tier is kept with the reason", async ({ page }) => {
  await signInAsOwner(page);
  await page.goto("/admin/segments/new");
  await waitForHydration(page);
  await page.getByLabel("Name").fill("Old promo");
  await page.getByLabel("Slug").fill("old-promo");
  await page.getByLabel("Rule").fill("completed(growth)");
  await page.getByRole("button", { name: "Save segment" }).click();
  await expect(page.getByRole("heading", { name: "Old promo", level: 1 })).toBeVisible();
  await waitForHydration(page);

  // Saying no to the question deletes nothing.
  page.once("dialog", (dialog) => void dialog.dismiss());
  await page.getByRole("button", { name: "Delete segment" }).click();
  await expect(page.getByRole("heading", { name: "Old promo", level: 1 })).toBeVisible();
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    void dialog.accept();
  });
  await page.getByRole("button", { name: "Delete segment" }).click();
  await expect(page).toHaveURL(/\/admin\/segments$/);
  expect(asked).toContain("Old promo");
  await expect(page.getByRole("row", { name: /Old promo/ })).toHaveCount(0);

  // A tier stays, with what to do first.
  await page.getByRole("link", { name: "Fast-track sales" }).first().click();
  await expect(page.getByRole("heading", { name: "Fast-track sales", level: 1 })).toBeVisible();
  await waitForHydration(page);
  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: "Delete segment" }).click();
  await expect(page.getByRole("alert")).toContainText("remove it from the playbook first");
});
