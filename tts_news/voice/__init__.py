"""Voices: the catalog (voices/*.toml), getting weights, the engines that speak, the sentence cache."""
