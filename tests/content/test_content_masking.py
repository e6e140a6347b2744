"""Personal data never reaches the editor's screen or the training data."""

from content.masking import fill_placeholders, mask


def test_contact_and_bank_data_are_masked():
    text = mask("Meine Mail ist erika.mustermann@example.org, Tel 0170 1234567, IBAN DE89 3704 0044 0532 0130 00")
    assert text == "Meine Mail ist «E-Mail», Tel «Telefon», IBAN «IBAN»"


def test_dates_postcodes_addresses_and_case_numbers_are_masked():
    text = mask("geboren am 12.08.1964, wohne Sonnenstraße 10 in 80331 München, Aktenzeichen BA-2026-7F3K9Q2M")
    assert text == "geboren am «Datum», wohne «Adresse» in «PLZ» München, Aktenzeichen «Aktenzeichen»"
    assert mask("am 3. März 1985 und 1990-05-17") == "am «Datum» und «Datum»"


def test_names_after_an_introduction_and_known_form_answers_are_masked():
    assert mask("Ich heiße Max von Meier und brauche einen Pass") == "Ich heiße «Name» und brauche einen Pass"
    assert mask("ich heisse anna") == "ich heisse «Name»"
    assert mask("Ozan hier, wie geht das?", known=[("Ozan", "Name")]) == "«Name» hier, wie geht das?"


def test_plain_requests_stay_as_they_are():
    for text in ("Ich bin umgezogen", "Was kostet ein Reisepass?", "Ich brauche 2 Urkunden"):
        assert mask(text) == text


def test_placeholders_become_harmless_examples():
    assert fill_placeholders("Mail an «E-Mail» wegen «Name»") == "Mail an erika.mustermann@example.org wegen Erika Mustermann"
