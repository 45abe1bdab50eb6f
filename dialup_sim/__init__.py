"""The 1997 dial-up link: a Hayes modem, a 9600-bps MNP line, a TCP proxy."""
