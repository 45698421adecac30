"""A student in a browser: what they click and read, found by role and text as a person would."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Download, FrameLocator, Locator, Page, expect

OUTPUT = Path(__file__).resolve().parent / "output"
# Long enough for a sign-in round trip on 2 busy cores, short enough to fail fast.
STEP_TIMEOUT_MS = 15_000


@dataclass
class Screenshots:
    """Numbered PNGs of the screens a test went through, in tests/browser/output/<test name>/."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    @classmethod
    def for_test(cls, name: str) -> Screenshots:
        """A fresh, empty folder for the test (the previous run's pictures go)."""
        folder = _folder(name)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return cls(folder)

    @staticmethod
    def for_failure(name: str) -> Path:
        """The test's folder, kept as it is: the failure picture joins the screens before it."""
        folder = _folder(name)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def take(self, page: Page, name: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


def _folder(test_name: str) -> Path:
    return OUTPUT / re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)


@dataclass
class Student:
    page: Page
    spa_url: str
    shots: Screenshots

    # --- onboarding and signing in ----------------------------------------------------------------

    def set_password(self, ticket_url: str, password: str) -> None:
        """Open the set-password link from the e-mail and choose a password."""
        self.page.goto(ticket_url)
        expect(self.page.get_by_role("heading", name="Change your password")).to_be_visible()
        self.page.get_by_label("New password", exact=True).fill(password)
        self.page.get_by_label("Confirm new password").fill(password)
        self.shots.take(self.page, "set-password")
        self.page.get_by_role("button", name="Reset password").click()
        expect(self.page.get_by_role("heading", name="Password changed")).to_be_visible()
        self.shots.take(self.page, "password-changed")

    def continue_to_sign_in(self) -> None:
        """The set-password page's link onward: it leads to the app's signed-out screen."""
        self.page.get_by_role("link", name="Continue to sign in").click()
        self.page.wait_for_url(f"{self.spa_url}/**")

    def open_app(self) -> None:
        self.page.goto(self.spa_url)

    def expect_signed_out(self) -> None:
        expect(self.page.get_by_role("heading", name="Your courses, one sign-in away")).to_be_visible(
            timeout=STEP_TIMEOUT_MS
        )
        expect(self.page.get_by_role("button", name="Sign in")).to_be_visible()
        expect(self.page.get_by_role("button", name="Sign out")).to_have_count(0)

    def submit_login(self, email: str, password: str) -> None:
        """From the SPA's signed-out screen to the tenant's login page, and submit it."""
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("heading", name="Welcome")).to_be_visible(timeout=STEP_TIMEOUT_MS)
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.shots.take(self.page, "login-page")
        self.page.get_by_role("button", name="Continue", exact=True).click()

    def sign_in(self, email: str, password: str, *, already_there: bool = False) -> None:
        if not already_there:
            self.open_app()
        self.expect_signed_out()
        self.shots.take(self.page, "signed-out")
        self.submit_login(email, password)
        self.expect_signed_in_as(email)

    def continue_with_google(self, email: str, *, verified: bool) -> None:
        """From the SPA's signed-out screen through the Google stand-in: the address, the box ticked or not."""
        self.page.get_by_role("button", name="Continue with Google").click()
        expect(self.page.get_by_role("heading", name="Sign in with Google")).to_be_visible(timeout=STEP_TIMEOUT_MS)
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Google has verified this address").set_checked(verified)
        self.shots.take(self.page, "google-stand-in")
        self.page.get_by_role("button", name="Continue", exact=True).click()

    def email_me_a_code(self, email: str, read_code: Callable[[str], str]) -> None:
        """From the SPA's signed-out screen through the passwordless pages; ``read_code`` opens the mailbox."""
        self.page.get_by_role("button", name="Email me a code").click()
        expect(self.page.get_by_role("heading", name="Sign in with an e-mail code")).to_be_visible(
            timeout=STEP_TIMEOUT_MS
        )
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_role("button", name="Send me a code").click()
        expect(self.page.get_by_role("heading", name="Check your email")).to_be_visible(timeout=STEP_TIMEOUT_MS)
        self.page.get_by_label("Code").fill(read_code(email))
        self.shots.take(self.page, "enter-code")
        self.page.get_by_role("button", name="Continue", exact=True).click()

    def expect_signed_in_as(self, email: str) -> None:
        expect(self.page.get_by_test_id("signed-in-as")).to_have_text(email, timeout=STEP_TIMEOUT_MS)

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        self.expect_signed_out()

    # --- courses ----------------------------------------------------------------------------------

    def my_courses(self) -> list[str]:
        """The titles on "My courses", once it has loaded."""
        expect(self.page.get_by_role("heading", name="My courses", level=1)).to_be_visible(timeout=STEP_TIMEOUT_MS)
        listing = self.page.get_by_role("list", name="Courses you can open")
        if listing.count() == 0:
            expect(self.page.get_by_test_id("no-courses")).to_be_visible()
            return []
        return [title.strip() for title in listing.get_by_role("heading").all_inner_texts()]

    def expect_courses(self, titles: list[str]) -> None:
        """Wait until "My courses" lists exactly ``titles`` (it re-reads them on its own)."""
        expect(self.page.get_by_role("heading", name="My courses", level=1)).to_be_visible(timeout=STEP_TIMEOUT_MS)
        listing = self.page.get_by_role("list", name="Courses you can open")
        if titles:
            expect(listing.get_by_role("heading")).to_have_text(titles, timeout=STEP_TIMEOUT_MS)
        else:
            expect(self.page.get_by_test_id("no-courses")).to_be_visible(timeout=STEP_TIMEOUT_MS)

    def open_course(self, title: str) -> None:
        self.page.get_by_role("link", name=f"Open {title}").click()
        expect(self.page.get_by_role("heading", name=title, level=1)).to_be_visible(timeout=STEP_TIMEOUT_MS)
        expect(self.page.get_by_role("status").filter(has_text="You have access to this course.")).to_be_visible()

    def back_to_courses(self) -> None:
        self.page.get_by_role("link", name="My courses").click()

    def come_back_to_tab(self) -> None:
        """What the browser fires when the student returns to the tab."""
        self.page.evaluate("window.dispatchEvent(new Event('focus'))")

    # --- lessons ----------------------------------------------------------------------------------

    def lesson_titles(self) -> list[str]:
        """The open course's lessons, in the order the page lists them."""
        listing = self.page.get_by_role("list", name="Lessons")
        expect(listing).to_be_visible(timeout=STEP_TIMEOUT_MS)
        return [title.strip() for title in listing.locator(".lesson-name").all_inner_texts()]

    def open_lesson(self, title: str) -> Locator:
        """Click the lesson in the list; returns the lesson's pane once it shows that lesson."""
        self.page.get_by_role("list", name="Lessons").get_by_role("button", name=title).click()
        pane = self.page.get_by_role("region", name=title)
        expect(pane).to_be_visible(timeout=STEP_TIMEOUT_MS)
        return pane

    def text_lesson(self, title: str) -> FrameLocator:
        """The text lesson's frame (its sandboxed document), once it is shown."""
        frame = self.page.get_by_title(title, exact=True)
        expect(frame).to_be_visible(timeout=STEP_TIMEOUT_MS)
        return frame.content_frame

    def play_video(self) -> None:
        """Press play on the open video lesson (muted, as a browser lets a page start sound only after a gesture)
        and wait until it is playing."""
        video = self.page.locator("video")
        expect(video).to_be_visible(timeout=STEP_TIMEOUT_MS)
        playing = video.evaluate(
            """async (video) => {
                if (video.readyState < 1) {
                    await new Promise((resolve) => video.addEventListener("loadedmetadata", resolve, { once: true }));
                }
                const playing = new Promise((resolve) => video.addEventListener("playing", resolve, { once: true }));
                video.muted = true;
                await video.play();
                await playing;
                return !video.paused;
            }""",
            timeout=STEP_TIMEOUT_MS,
        )
        assert playing is True

    def download_lesson(self, title: str) -> Download:
        """Click the open file lesson's download button; the browser saves what the link answers."""
        with self.page.expect_download(timeout=STEP_TIMEOUT_MS) as saving:
            self.page.get_by_role("link", name=f"Download {title}").click()
        return saving.value
