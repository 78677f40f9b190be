"""The citizen's side (``/s/<desk>``): the form behind each desk's QR code, the
thank-you page, the QR code and the poster."""
