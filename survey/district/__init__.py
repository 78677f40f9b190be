"""The district: its communes aggregated with correct weights (the stratified
estimate), and the dossier volumes that weight them (``/units/<unit>/volumes``)."""
