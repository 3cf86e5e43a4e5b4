"""Smart tags: every customer message is classified in-process as it arrives."""
