"""Audio files on this machine: receiving them to disk, and recognising what they are."""
