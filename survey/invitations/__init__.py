"""Invitations to rate dossiers filed online: the receipt token's link sent by SMS,
e-mail or Zalo, one reminder, and how many of them were answered."""
