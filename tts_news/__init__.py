"""tts-news: Urdu news articles → podcast-quality MP3s."""

__version__ = "0.1.0"
