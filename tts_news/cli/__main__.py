"""`python -m tts_news.cli`: the same as the `tts-news` command."""

import sys

from tts_news.cli.main import main

sys.exit(main())
