import { test, expect } from "@playwright/test";
import { signInAsOwner, waitForHydration } from "./support";

test("a marketer builds a segment rule from lists, sees its text and whom it matches, and the lists follow the text as it is edited", async ({ page }) => {
  await signInAsOwner(page);
  await page.goto("/admin/segments/new");
  await expect(page.getByRole("heading", { name: "New segment", level: 1 })).toBeVisible();
  await waitForHydration(page);

  const builder = page.getByRole("region", { name: "Condition builder" });
  const rule = page.getByLabel("Rule");
  const control = (label: string) => builder.getByLabel(label, { exact: true });
  await expect(builder.getByText("No conditions yet.")).toBeVisible();

  // First condition: finished the demo quiz.
  await builder.getByRole("button", { name: "Add condition to top group", exact: true }).click();
  await control("Condition 1 kind").selectOption("completed");
  await control("Condition 1 quiz").selectOption("growth");
  await expect(rule).toHaveValue("all(completed(growth))");

  // Second: scored 7 or more on it.
  await builder.getByRole("button", { name: "Add condition to top group", exact: true }).click();
  await control("Condition 2 kind").selectOption("score");
  await control("Condition 2 quiz").selectOption("growth");
  await control("Condition 2 comparison").selectOption(">=");
  await control("Condition 2 value").fill("7");
  await control("Condition 2 value").press("Enter");
  await expect(rule).toHaveValue("all(completed(growth), score(growth) >= 7)");
  await expect(page).toHaveURL(/\/admin\/segments\/new$/);

  const preview = page.getByRole("region", { name: "Preview" });
  const matches = preview.getByText(/^Matches \d+ contacts now$/);
  await expect(matches).toBeVisible();
  expect(Number((await matches.textContent())!.match(/\d+/)![0])).toBeGreaterThan(0);

  // A nested group, turned into a "not", then dropped again.
  await builder.getByRole("button", { name: "Add group to top group", exact: true }).click();
  await expect(control("Group 3 kind")).toHaveValue("any");
  await control("Group 3 kind").selectOption("not");
  await expect(rule).toHaveValue(/^all\(completed\(growth\), score\(growth\) >= 7, not\(completed\([a-z0-9_-]+\)\)\)$/);
  await builder.getByRole("button", { name: "Remove group 3", exact: true }).click();
  await expect(rule).toHaveValue("all(completed(growth), score(growth) >= 7)");

  // Typing in the text form redraws the lists.
  await rule.fill("any(completed(growth, within 30d), never(invited_teammate))");
  await expect(control("Top group kind")).toHaveValue("any");
  await expect(control("Condition 1 kind")).toHaveValue("completed");
  await expect(control("Condition 1 within days")).toHaveValue("30");
  await expect(control("Condition 2 kind")).toHaveValue("never");
  await expect(control("Condition 2 event")).toHaveValue("invited_teammate");
  await expect(matches).toBeVisible();

  // While the text does not read, the builder waits and the text is kept.
  await rule.fill("any(completed(growth)");
  await expect(builder.getByText(/has an error to fix first/)).toBeVisible();
  await expect(rule).toHaveValue("any(completed(growth)");

  // A condition the lists cannot show is kept as text, and can be removed.
  const filtered = 'event(page_viewed where path = "/pricing", count >= 2)';
  await rule.fill(`all(${filtered}, completed(growth))`);
  await expect(builder.getByRole("group", { name: "Condition 1", exact: true }).getByText(filtered)).toBeVisible();
  await builder.getByRole("button", { name: "Remove condition 2", exact: true }).click();
  await expect(rule).toHaveValue(`all(${filtered})`);
});
