"""End-to-end tests: the real service in-process, driven by Debian's chromium through Playwright."""
