"""pbk files: PocketBase's file fields (uploads, serving, thumbs, protected files)."""
