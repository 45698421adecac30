"""Real-browser journeys: headless Debian Chromium driven by Playwright through the example SPA."""
