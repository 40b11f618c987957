"""The command line, `tts-news`: a thin front end over the pipeline (`main`), one module per command family."""
