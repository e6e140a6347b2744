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
    assert (
        fill_placeholders("Mail an «E-Mail» wegen «Name»")
        == "Mail an erika.mustermann@example.org wegen Erika Mustermann"
    )


def test_full_names_without_an_introduction_are_masked():
    # Attack (issue 13): names not introduced by a phrase reached the editor unmasked.
    assert mask("Bitte an Erika Mustermann schicken") == "Bitte an «Name» schicken"
    assert mask("Anna-Lena Schmidt-Meier braucht einen Pass") == "«Name» braucht einen Pass"
    assert mask("Hans Peter von Müller zieht um") == "«Name» zieht um"
    assert mask("Mustermann, Erika, geht das?") == "«Name», geht das?"
    assert mask("Mein Sohn Mehmet Yılmaz braucht einen Ausweis") == "Mein Sohn «Name» braucht einen Ausweis"
    assert mask("Termin für Frau Dr. Meier") == "Termin für Frau Dr. «Name»"
    from content.masking import first_names

    assert {"Erika", "Mehmet", "Agnieszka", "Giuseppe"} <= first_names()  # from the Faker package


def test_id_card_and_passport_numbers_are_masked():
    assert mask("Meine Ausweisnummer ist L01X00T47") == "Meine Ausweisnummer ist «Ausweisnummer»"
    assert mask("Reisepass c01x00t478 verloren") == "Reisepass «Ausweisnummer» verloren"
    assert mask("alte Nummer 1220001297") == "alte Nummer «Nummer»"


def test_ibans_in_any_grouping_and_dates_of_birth_are_masked():
    assert mask("IBAN de89-3704-0044-0532-0130-00 und danke") == "IBAN «IBAN» und danke"
    assert mask("IBAN DE89370400440532013000") == "IBAN «IBAN»"
    assert mask("Konto GB82 WEST 1234 5698 7654 32 bitte") == "Konto «IBAN» bitte"
    assert mask("geb. 1964 in Ulm, geboren 12/08/1964") == "geb. «Datum» in Ulm, geboren «Datum»"
    assert mask("Jahrgang 1987") == "Jahrgang «Datum»"


def test_capitalised_words_that_are_not_names_stay():
    for text in (
        "Im August Urlaub, dann Anmeldung",
        "Rosa Führerschein umtauschen",
        "Kann ich den Personalausweis in München beantragen?",
        "Ich brauche 2 Urkunden für 2025",
        "Mein Kind braucht einen Kinderreisepass",
        "Was kostet die Ummeldung?",
    ):
        assert mask(text) == text
