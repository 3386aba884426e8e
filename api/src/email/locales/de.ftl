# Die Wörter der E-Mails, auf Deutsch (Sie-Form). Dieselben Nachrichten wie en.ftl.

## Datumsformate
datetime-format = %-d. %B %Y, %H:%M %Z
date-format = %-d. %B %Y

## Rahmen jeder E-Mail
footer-sent-by = Diese E-Mail wurde von { $product } gesendet.
footer-support-email = Fragen? Schreiben Sie an { $email }.
footer-support-url = Hilfe: { $url }

## Einladungen
invitation-subject = Einladung zu einem Konto bei { $product }
invitation-reminder-subject = Erinnerung: Ihre Einladung bei { $product } wartet noch
invitation-intro = „{ $inviter }“ hat Sie eingeladen, dem Konto „{ $account }“ bei { $product } beizutreten.
invitation-message = Die Nachricht an Sie:
invitation-valid-until = Die Einladung gilt bis { $date }.
invitation-ignore = Wenn Sie keine Einladung erwartet haben, ignorieren Sie diese E-Mail.
invitation-accept = Einladung annehmen

## Adresse und Passwort
email-verification-subject = Bestätigen Sie Ihre E-Mail-Adresse
email-verification-body = Bestätigen Sie, dass dies Ihre E-Mail-Adresse für { $product } ist.
email-verification-action = E-Mail-Adresse bestätigen
password-reset-subject = Ihr { $product }-Passwort zurücksetzen
password-reset-body = Jemand hat verlangt, das Passwort Ihres { $product }-Kontos zurückzusetzen. Der Link funktioniert einmal, eine Stunde lang.
password-reset-ignore = Wenn Sie das nicht waren, ignorieren Sie diese E-Mail: Ihr Passwort bleibt, wie es ist.
password-reset-action = Neues Passwort wählen
password-changed-subject = Ihr { $product }-Passwort wurde geändert
password-changed-body = Das Passwort Ihres { $product }-Kontos wurde soeben geändert, und Ihre anderen Sitzungen wurden abgemeldet.
password-changed-warning = Wenn Sie das nicht waren, setzen Sie Ihr Passwort jetzt zurück und informieren Sie Ihre Administration.
email-change-subject = Bestätigen Sie Ihre neue E-Mail-Adresse
email-change-body = Bestätigen Sie, dass Sie sich ab jetzt mit dieser E-Mail-Adresse bei { $product } anmelden möchten. Der Link funktioniert einmal, einen Tag lang.
email-change-action = Diese Adresse verwenden
registration-attempted-subject = Jemand wollte sich mit Ihrer E-Mail-Adresse registrieren
registration-attempted-body = Jemand wollte mit dieser E-Mail-Adresse ein { $product }-Konto anlegen, aber es gibt bereits eines. Nichts wurde geändert.
registration-attempted-advice = Wenn Sie das waren, melden Sie sich stattdessen an; haben Sie Ihr Passwort vergessen, setzen Sie es auf der Anmeldeseite zurück. Wenn nicht, können Sie diese E-Mail ignorieren.
email-change-attempted-subject = Jemand wollte Ihre E-Mail-Adresse verwenden
email-change-attempted-body = Jemand, der bei einem anderen { $product }-Konto angemeldet ist, wollte es auf diese E-Mail-Adresse umstellen, zu der es bereits ein Konto gibt. Nichts wurde geändert.
email-change-attempted-advice = Wenn Sie das waren, melden Sie sich stattdessen mit dieser Adresse an. Wenn nicht, können Sie diese E-Mail ignorieren.
email-changed-subject = Ihre { $product }-E-Mail-Adresse wurde geändert
email-changed-body = Ihr { $product }-Konto meldet sich jetzt mit { $email } statt mit dieser Adresse an.
email-changed-warning = Wenn Sie das nicht waren, informieren Sie sofort Ihre Administration.

## Tabellen-Importe
import-report-subject = Import für { $account } abgeschlossen: { $invited } eingeladen, { $skipped } übersprungen, { $failed } fehlgeschlagen
import-report-intro = Ihre Tabelle für { $account } wurde importiert: { $total } Zeilen.
import-report-intro-named = Ihre Tabelle { $file } für { $account } wurde importiert: { $total } Zeilen.
import-report-counts = Eingeladen: { $invited }. Übersprungen: { $skipped }. Fehlgeschlagen: { $failed }.
import-report-failures = { $count ->
    [one] Dieser Eintrag konnte nicht eingeladen werden:
   *[other] Diese Einträge konnten nicht eingeladen werden:
}
import-report-failure = Zeile { $row }: { $email } – { $reason }
import-report-unlisted = { $count ->
    [one] …und ein weiterer.
   *[other] …und { $count } weitere.
}
import-report-fix = Korrigieren Sie diese Zeilen und laden Sie sie erneut hoch. Die angehängte Datei enthält das Ergebnis jeder Zeile.
import-report-action = Bericht ansehen
import-reason-malformed_row = die Zeile hat nicht die Spalten der Vorlage
import-reason-invalid_email = die E-Mail-Adresse ist ungültig
import-reason-invalid_locale = die Sprache (locale) ist kein gültiges Sprachkürzel
import-reason-invalid_name = der Vor- oder Nachname ist ungültig
import-reason-unknown_role = eine genannte Rolle gibt es in diesem Konto nicht
import-reason-unknown_group = eine genannte Gruppe gibt es in diesem Konto nicht
import-reason-role_not_grantable = Sie dürfen eine genannte Rolle nicht vergeben
import-reason-email_policy_refused = das Konto lädt nur Personen ohne bestehendes Konto ein
import-reason-email_domain_not_allowed = die Adresse gehört zu keiner Domain des Kontos
import-reason-too_many_roles = die Zeile vergibt mehr Rollen, als ein Mitglied haben darf
import-reason-uploader_lost_access = Sie dürfen in diesem Konto nicht mehr importieren
import-reason-seat_limit_reached = der Tarif hat keinen freien Platz mehr
import-reason-other = { $detail }

## Beitrittslinks
join-request-received-subject = { $who } möchte { $account } beitreten
join-request-received-body = { $who } möchte über einen Beitrittslink { $account } bei { $product } beitreten.
join-request-received-message = Die Nachricht:
join-request-received-advice = Genehmigen Sie die Anfrage mit den passenden Rollen, oder lehnen Sie sie ab.
join-request-received-action = Anfrage prüfen
join-request-approved-subject = Sie sind jetzt Mitglied von { $account }
join-request-approved-body = Ihre Anfrage, { $account } bei { $product } beizutreten, wurde genehmigt.
join-request-declined-subject = Ihre Anfrage, { $account } beizutreten, wurde abgelehnt
join-request-declined-body = Ihre Anfrage, { $account } bei { $product } beizutreten, wurde abgelehnt.
join-request-reason = Begründung: { $reason }
join-request-action = { $product } öffnen

## Verzeichnis-Synchronisierung
directory-welcome-subject = Sie wurden einem Konto bei { $product } hinzugefügt
directory-welcome-body = Das Verzeichnis Ihrer Organisation hat Sie dem Konto „{ $account }“ bei { $product } hinzugefügt.
directory-welcome-single-sign-on = Melden Sie sich über den Identitätsanbieter Ihres Unternehmens an.
directory-welcome-set-password = Wählen Sie ein Passwort, um sich anzumelden; der Link gilt 7 Tage (danach „Passwort vergessen“ verwenden).
directory-welcome-password = Melden Sie sich mit Ihrer E-Mail-Adresse und Ihrem bisherigen Passwort an.
directory-welcome-advice = Wenn Sie das nicht erwartet haben, fragen Sie die Administration Ihrer Organisation.
directory-welcome-sign-in = Anmelden
directory-welcome-choose-password = Passwort wählen

## Domains, Webhooks und Schlüssel
domain-unverified-subject = { $domain } ist nicht mehr verifiziert
domain-unverified-body = { $domain } ist keine verifizierte Domain von { $account } mehr: Ihr DNS-Eintrag fehlte 3 Tage lang.
domain-unverified-advice = Veröffentlichen Sie den Eintrag erneut (die Domain zeigt ihn an) und verifizieren Sie die Domain dann erneut.
domain-unverified-action = Domain ansehen
webhook-disabled-subject = Webhooks an { $url } wurden deaktiviert
webhook-disabled-body = { $product } sendet keine Webhooks von { $account } mehr an { $url }.
webhook-disabled-reason = Grund: { $reason }.
webhook-disabled-advice = Beheben Sie das Problem beim Empfänger und aktivieren Sie den Endpunkt wieder; fehlgeschlagene Zustellungen lassen sich einzeln erneut senden.
webhook-disabled-action = Endpunkt ansehen
api-key-created-subject = Neuer API-Schlüssel für { $partner } in { $account }
api-key-created-body = { $creator } hat { $partner } einen API-Schlüssel für { $account } gegeben: „{ $key }“.
api-key-created-permissions = Er darf: { $permissions }.
api-key-created-expiry = Er läuft am { $date } ab.
api-key-created-advice = Wenn das unerwartet ist, widerrufen Sie den Schlüssel sofort.
api-key-created-action = Schlüssel ansehen

## Mitglieder und Zugriff
ownership-transferred-subject = { $account } hat einen neuen Eigentümer
ownership-transferred-body = { $previous } hat { $new } zum Eigentümer von { $account } gemacht.
ownership-transferred-previous = { $previous } ist jetzt Administrator.
ownership-transferred-advice = Wenn das nicht abgesprochen war, kann ein Eigentümer es bei den Mitgliedern ändern.
ownership-transferred-action = Mitglieder ansehen
access-review-scope-group = die Gruppe { $group } von { $account }
access-review-started-subject = Zugriffsprüfung: { $scope }
access-review-started-body = Eine Zugriffsprüfung von { $scope } hat begonnen; Sie gehören zu den Prüfenden. Sie ist fällig am { $date }.
access-review-due-soon-subject = Erinnerung: Zugriffsprüfung von { $scope } fällig am { $date }
access-review-due-soon-body = Die Zugriffsprüfung von { $scope } ist fällig am { $date }.
access-review-overdue-subject = Überfällig: Zugriffsprüfung von { $scope }
access-review-overdue-body = Die Zugriffsprüfung von { $scope } war fällig am { $date } und ist nicht abgeschlossen.
access-review-undecided = { $count ->
    [one] Ein Mitglied wartet auf eine Entscheidung: behalten, einschränken oder entfernen. Niemand entscheidet über den eigenen Zugriff.
   *[other] { $count } Mitglieder warten auf eine Entscheidung: behalten, einschränken oder entfernen. Niemand entscheidet über den eigenen Zugriff.
}
access-review-action = Prüfung öffnen
account-link-requested-subject = { $parent } möchte { $child } verknüpfen
account-link-requested-body = { $parent } möchte { $child } als verknüpftes Konto unter sich führen.
account-link-requested-effect = Sobald ein Eigentümer von { $child } zustimmt, gelten die Rollen, die { $parent } auf verknüpfte Konten ausdehnt, auch in { $child }. Beide Seiten können die Verknüpfung jederzeit beenden.
account-link-requested-advice = Wenn Sie dieses Konto nicht kennen, lehnen Sie die Anfrage ab.
account-link-requested-action = Anfrage prüfen

## Konto löschen
account-deletion-scheduled-subject = { $account } wird gelöscht
account-deletion-scheduled-body = { $who } hat das Konto „{ $account }“ bei { $product } gelöscht. Bis es endgültig entfernt wird, kann darin nichts geändert werden; seine Einladungen, Beitrittslinks, API-Schlüssel und Webhooks sind gestoppt.
account-deletion-scheduled-when = Es wird am { $date } endgültig entfernt: seine Mitglieder, Einladungen, Rollen, Gruppen und Einstellungen.
account-deletion-scheduled-advice = Falls das ein Versehen ist, kann ein Eigentümer das Konto bis dahin wiederherstellen.
account-deletion-scheduled-action = Konto öffnen
account-restored-subject = { $account } wurde wiederhergestellt
account-restored-body = { $who } hat das Konto „{ $account }“ bei { $product } wiederhergestellt: Es wird nicht gelöscht, und alles darin funktioniert wieder.
account-restored-action = Konto öffnen

personal-export-ready-subject = Ihre Daten bei { $product } sind bereit
personal-export-ready-body = Die angeforderte Kopie aller Daten, die { $product } über Sie speichert, steht zum Herunterladen bereit.
personal-export-ready-when = Der Link funktioniert bis { $date }; wer ihn hat, kann die Kopie herunterladen. Leiten Sie diese E-Mail daher nicht weiter.
personal-export-ready-advice = Wenn Sie das nicht angefordert haben, ändern Sie Ihr Passwort: Möglicherweise ist jemand anderes als Sie angemeldet.
personal-export-ready-action = Daten herunterladen
