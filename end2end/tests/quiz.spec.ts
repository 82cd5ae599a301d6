import { test, expect } from "@playwright/test";
import { waitForHydration } from "./support";

test("a respondent with JavaScript completes the demo quiz without page loads and sees their outcome", async ({ page }) => {
  await page.goto("/q/growth?utm_source=playwright");
  await waitForHydration(page);
  let loads = 0;
  page.on("load", () => loads++);

  await expect(page.getByRole("heading", { name: "Where is your business today?" })).toBeVisible();
  await page.getByLabel("Growing, with paying customers").check();
  await page.getByRole("button", { name: "Next" }).click();

  // The new question takes the keyboard focus, as a page load would.
  await expect(page.getByRole("heading", { name: "What could you invest in growth each month?" })).toBeFocused();
  // Back keeps the earlier answer.
  await page.getByRole("button", { name: "Back" }).click();
  await expect(page.getByLabel("Growing, with paying customers")).toBeChecked();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("$1,000 to $10,000").check();
  await page.getByRole("button", { name: "Next" }).click();

  await expect(page.getByRole("heading", { name: "How urgent is fixing growth for you?" })).toBeVisible();
  await page.getByLabel("3", { exact: true }).check();
  // A step that does not reach the server says so; the answer waits.
  await page.route("**/api/quiz/answer", (route) => route.abort());
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByLabel("3", { exact: true })).toBeChecked();
  await page.unroute("**/api/quiz/answer");
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByRole("alert")).toHaveCount(0);

  await page.getByLabel("Search").check();
  await page.getByRole("button", { name: "Next" }).click();
  // The open question is optional.
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("2 to 5").check();
  await page.getByRole("button", { name: "Next" }).click();

  await expect(page.getByRole("heading", { name: "Where should we send your plan?" })).toBeVisible();
  // The browser accepts this address; the server explains why it does not.
  await page.getByLabel("Email").fill("jo@example");
  await page.getByRole("button", { name: "See my result" }).click();
  await expect(page.getByRole("alert")).toContainText("is not a valid email address");
  await page.getByLabel("Email").fill("jo@example.com");
  await page.getByLabel("Name").fill("Jo");
  await page.getByRole("button", { name: "See my result" }).click();

  // 2 + 2 + 3 + 1 + 1 = 9 points: the middle outcome.
  await expect(page).toHaveURL(/\/q\/growth\/result$/);
  // The outcome takes the focus from the button that was pressed.
  await expect(page.getByRole("heading", { name: "You are ready to build a growth engine" })).toBeFocused();
  await expect(page.getByText("Your score: 9")).toBeVisible();
  expect(loads).toBe(0);
});

test("the browser's Back and Forward move between the questions of a hydrated quiz", async ({ page }) => {
  const stage = page.getByRole("heading", { name: "Where is your business today?" });
  const budget = page.getByRole("heading", { name: "What could you invest in growth each month?" });
  const urgency = page.getByRole("heading", { name: "How urgent is fixing growth for you?" });
  await page.goto("/");
  await page.goto("/q/growth");
  await waitForHydration(page);
  let loads = 0;
  page.on("load", () => loads++);

  await page.getByLabel("Growing, with paying customers").check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("$1,000 to $10,000").check();
  await page.getByRole("button", { name: "Next" }).click();
  await expect(urgency).toBeVisible();

  // Back shows each earlier question with the answer given, in place.
  await page.goBack();
  await expect(budget).toBeFocused();
  await expect(page.getByLabel("$1,000 to $10,000")).toBeChecked();
  await page.goBack();
  await expect(stage).toBeVisible();
  await expect(page.getByLabel("Growing, with paying customers")).toBeChecked();
  await page.goForward();
  await expect(budget).toBeVisible();

  // An answer changed there counts, and the quiz goes on from it.
  await page.getByLabel("Over $10,000").check();
  await page.getByRole("button", { name: "Next" }).click();
  await expect(urgency).toBeVisible();
  // The quiz's own Back is the browser's: Forward comes back again.
  await page.getByRole("button", { name: "Back" }).click();
  await expect(page.getByLabel("Over $10,000")).toBeChecked();
  await page.goForward();
  await expect(urgency).toBeVisible();

  await page.getByLabel("3", { exact: true }).check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("Search").check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("2 to 5").check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("Email").fill("history@example.com");
  await page.getByRole("button", { name: "See my result" }).click();
  // 2 + 3 + 3 + 1 + 1: the changed budget's points.
  await expect(page.getByText("Your score: 10")).toBeVisible();
  expect(loads).toBe(0);

  // A finished quiz cannot be answered again: Back passes its questions by.
  await page.goBack();
  await expect(page.getByRole("heading", { name: "You have finished this quiz" })).toBeVisible();
  await page.goBack();
  await expect(page).not.toHaveURL(/\/q\//);
});

test.describe("with JavaScript off", () => {
  test.use({ javaScriptEnabled: false });

  test("a respondent completes the quiz with plain form posts and sees the outcome they earned", async ({ page }) => {
    await page.goto("/q/growth");
    await page.getByRole("button", { name: "Next" }).click();
    await expect(page.getByRole("alert")).toHaveText("please answer this question");

    await page.getByLabel("Scaling a proven product").check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Over $10,000").check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("5", { exact: true }).check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Paid ads").check();
    await page.getByLabel("Email").check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel(/what is holding your growth back/).fill("No pipeline");
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("More than 5").check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Email").fill("sam@example.com");
    await page.getByRole("button", { name: "See my result" }).click();

    // 3 + 3 + 5 + 1 + 1 + 2 = 15 points.
    await expect(page.getByRole("heading", { name: "Let's talk this week" })).toBeVisible();
    await expect(page.getByText("Your score: 15")).toBeVisible();
  });

  test("the browser's Back never puts an earlier page's choices on another question", async ({ page }) => {
    await page.goto("/q/growth");
    await page.getByLabel("Growing, with paying customers").check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Over $10,000").check();
    await page.getByRole("button", { name: "Next" }).click();
    await expect(page.getByRole("heading", { name: "How urgent is fixing growth for you?" })).toBeVisible();

    // The browser shows either the earlier page as it was, or the step the
    // respondent is on; the third choice of one page is never carried to
    // the third of another.
    await page.goBack();
    const budget = page.getByRole("heading", { name: "What could you invest in growth each month?" });
    if (await budget.isVisible()) {
      await expect(page.getByLabel("Over $10,000")).toBeChecked();
    } else {
      await expect(page.getByRole("heading", { name: "How urgent is fixing growth for you?" })).toBeVisible();
      await expect(page.locator("input[name=answer]:checked")).toHaveCount(0);
    }
  });
});

test("an unknown quiz address shows a friendly page", async ({ page }) => {
  const response = await page.goto("/q/no-such-quiz");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "This quiz is not available" })).toBeVisible();
});

test("someone opening a shared quiz link starts their own quiz, not the sharer's", async ({ browser }) => {
  // Links from the marketer's site carry the sharer's visitor id.
  const link = "/q/growth?qf_vid=shared-link-visitor-1";
  const sharer = await browser.newPage();
  await sharer.goto(link);
  await waitForHydration(sharer);
  await sharer.getByLabel("Scaling a proven product").check();
  await sharer.getByRole("button", { name: "Next" }).click();
  await sharer.getByLabel("Over $10,000").check();
  await sharer.getByRole("button", { name: "Next" }).click();
  await expect(sharer.getByRole("heading", { name: "How urgent is fixing growth for you?" })).toBeVisible();

  const friend = await browser.newPage();
  await friend.goto(link);
  await waitForHydration(friend);
  await expect(friend.getByRole("heading", { name: "Where is your business today?" })).toBeVisible();
  await expect(friend.getByLabel("Scaling a proven product")).not.toBeChecked();

  // The sharer still has their own place after a reload.
  await sharer.reload();
  await expect(sharer.getByRole("heading", { name: "How urgent is fixing growth for you?" })).toBeVisible();
  await sharer.close();
  await friend.close();
});
