"""Ausschreibungen: Vergabeverfahren, an denen das Unternehmen teilnimmt oder teilnehmen will."""
