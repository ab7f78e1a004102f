"""Coverage-guided fuzz harnesses (atheris); not collected by pytest. See docs/fuzzing.md."""
