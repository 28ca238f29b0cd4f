enum _PlaceholderParleyClient {}
