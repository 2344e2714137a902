"""Answers: queries on the results snapshot, the Answer object, wording (i18n), charts and exports."""
