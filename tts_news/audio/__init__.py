"""Sound: the timeline (joins, pauses, fades), mastering, MP3 encoding, live encoding, sidecar files."""
