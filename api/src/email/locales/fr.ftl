# Les mots des e-mails, en français (vouvoiement). Mêmes messages que en.ftl.

## Formats de date
datetime-format = %-d %B %Y à %H:%M %Z
date-format = %-d %B %Y

## Autour de chaque e-mail
footer-sent-by = Cet e-mail a été envoyé par { $product }.
footer-support-email = Des questions ? Écrivez à { $email }.
footer-support-url = Aide : { $url }

## Invitations
invitation-subject = Vous êtes invité à rejoindre un compte sur { $product }
invitation-reminder-subject = Rappel : une invitation vous attend sur { $product }
invitation-intro = « { $inviter } » vous invite à rejoindre le compte « { $account } » sur { $product }.
invitation-message = Son message :
invitation-valid-until = L’invitation est valable jusqu’au { $date }.
invitation-ignore = Si vous ne l’attendiez pas, ignorez cet e-mail.
invitation-accept = Accepter l’invitation

## Adresse et mot de passe
email-verification-subject = Confirmez votre adresse e-mail
email-verification-body = Confirmez qu’il s’agit bien de votre adresse e-mail pour { $product }.
email-verification-action = Confirmer mon adresse e-mail
password-reset-subject = Réinitialiser votre mot de passe { $product }
password-reset-body = Quelqu’un a demandé à réinitialiser le mot de passe de votre compte { $product }. Le lien fonctionne une fois, pendant une heure.
password-reset-ignore = Si ce n’était pas vous, ignorez cet e-mail : votre mot de passe reste inchangé.
password-reset-action = Choisir un nouveau mot de passe
password-changed-subject = Votre mot de passe { $product } a été modifié
password-changed-body = Le mot de passe de votre compte { $product } vient d’être modifié, et vos autres sessions ont été fermées.
password-changed-warning = Si ce n’était pas vous, réinitialisez votre mot de passe maintenant et prévenez votre administrateur.
email-change-subject = Confirmez votre nouvelle adresse e-mail
email-change-body = Confirmez que vous voulez désormais vous connecter à { $product } avec cette adresse e-mail. Le lien fonctionne une fois, pendant un jour.
email-change-action = Utiliser cette adresse
registration-attempted-subject = Quelqu’un a essayé de s’inscrire avec votre adresse e-mail
registration-attempted-body = Quelqu’un a essayé de créer un compte { $product } avec cette adresse e-mail, qui en a déjà un. Rien n’a changé.
registration-attempted-advice = Si c’était vous, connectez-vous plutôt ; si vous avez oublié votre mot de passe, réinitialisez-le depuis la page de connexion. Sinon, vous pouvez ignorer cet e-mail.
email-change-attempted-subject = Quelqu’un a essayé d’utiliser votre adresse e-mail
email-change-attempted-body = Une personne connectée à un autre compte { $product } a demandé à le déplacer vers cette adresse e-mail, qui a déjà un compte. Rien n’a changé.
email-change-attempted-advice = Si c’était vous, connectez-vous plutôt avec cette adresse. Sinon, vous pouvez ignorer cet e-mail.
email-changed-subject = Votre adresse e-mail { $product } a été modifiée
email-changed-body = Votre compte { $product } se connecte désormais avec { $email } au lieu de cette adresse.
email-changed-warning = Si ce n’était pas vous, prévenez immédiatement votre administrateur.

## Imports de tableurs
import-report-subject = Import terminé pour { $account } : { $invited } invités, { $skipped } ignorés, { $failed } en échec
import-report-intro = Votre tableur pour { $account } a été importé : { $total } lignes.
import-report-intro-named = Votre tableur { $file } pour { $account } a été importé : { $total } lignes.
import-report-counts = Invités : { $invited }. Ignorés : { $skipped }. En échec : { $failed }.
import-report-failures = { $count ->
    [one] Cette entrée n’a pas pu être invitée :
   *[other] Ces entrées n’ont pas pu être invitées :
}
import-report-failure = Ligne { $row } : { $email } — { $reason }
import-report-unlisted = { $count ->
    [one] …et une autre.
   *[other] …et { $count } autres.
}
import-report-fix = Corrigez-les puis importez de nouveau ces lignes. Le fichier joint donne le résultat de chaque ligne.
import-report-action = Voir le rapport
import-reason-malformed_row = la ligne n’a pas les colonnes du modèle
import-reason-invalid_email = l’adresse e-mail n’est pas valide
import-reason-invalid_locale = la langue (locale) n’est pas un code de langue valide
import-reason-invalid_name = le prénom ou le nom n’est pas valide
import-reason-unknown_role = un rôle indiqué n’existe pas dans ce compte
import-reason-unknown_group = un groupe indiqué n’existe pas dans ce compte
import-reason-role_not_grantable = vous ne pouvez pas attribuer un rôle indiqué
import-reason-email_policy_refused = le compte n’invite que des personnes sans compte existant
import-reason-email_domain_not_allowed = l’adresse n’appartient à aucun domaine du compte
import-reason-too_many_roles = la ligne attribue plus de rôles qu’un membre ne peut en avoir
import-reason-uploader_lost_access = vous ne pouvez plus importer dans ce compte
import-reason-seat_limit_reached = l’offre n’a plus de place libre
import-reason-other = { $detail }

## Liens d’adhésion
join-request-received-subject = { $who } demande à rejoindre { $account }
join-request-received-body = { $who } demande à rejoindre { $account } sur { $product } par un lien d’adhésion.
join-request-received-message = Son message :
join-request-received-advice = Approuvez la demande avec les rôles appropriés, ou refusez-la.
join-request-received-action = Examiner la demande
join-request-approved-subject = Vous êtes maintenant membre de { $account }
join-request-approved-body = Votre demande pour rejoindre { $account } sur { $product } a été approuvée.
join-request-declined-subject = Votre demande pour rejoindre { $account } a été refusée
join-request-declined-body = Votre demande pour rejoindre { $account } sur { $product } a été refusée.
join-request-reason = Motif : { $reason }
join-request-action = Ouvrir { $product }

## Synchronisation de l’annuaire
directory-welcome-subject = Vous avez été ajouté à un compte sur { $product }
directory-welcome-body = L’annuaire de votre organisation vous a ajouté au compte « { $account } » sur { $product }.
directory-welcome-single-sign-on = Connectez-vous avec le fournisseur d’identité de votre entreprise.
directory-welcome-set-password = Choisissez un mot de passe pour vous connecter ; le lien est valable 7 jours (ensuite, utilisez « Mot de passe oublié »).
directory-welcome-password = Connectez-vous avec votre e-mail et le mot de passe que vous utilisez déjà.
directory-welcome-advice = Si vous ne vous y attendiez pas, adressez-vous à l’administrateur de votre organisation.
directory-welcome-sign-in = Se connecter
directory-welcome-choose-password = Choisir un mot de passe

## Domaines, webhooks et clés
domain-unverified-subject = { $domain } n’est plus vérifié
domain-unverified-body = { $domain } n’est plus un domaine vérifié de { $account } : son enregistrement DNS a manqué pendant 3 jours.
domain-unverified-advice = Publiez de nouveau l’enregistrement (le domaine l’affiche), puis vérifiez de nouveau le domaine.
domain-unverified-action = Voir le domaine
webhook-disabled-subject = Les webhooks vers { $url } ont été désactivés
webhook-disabled-body = { $product } n’envoie plus les webhooks de { $account } vers { $url }.
webhook-disabled-reason = Raison : { $reason }.
webhook-disabled-advice = Réparez le récepteur, puis réactivez le point de terminaison ; les livraisons en échec peuvent être renvoyées une à une.
webhook-disabled-action = Voir le point de terminaison
api-key-created-subject = Nouvelle clé d’API pour { $partner } dans { $account }
api-key-created-body = { $creator } a donné à { $partner } une clé d’API pour { $account } : « { $key } ».
api-key-created-permissions = Elle permet : { $permissions }.
api-key-created-expiry = Elle expire le { $date }.
api-key-created-advice = Si c’est inattendu, révoquez la clé immédiatement.
api-key-created-action = Voir la clé

## Membres et accès
ownership-transferred-subject = { $account } a un nouveau propriétaire
ownership-transferred-body = { $previous } a fait de { $new } un propriétaire de { $account }.
ownership-transferred-previous = { $previous } est désormais administrateur.
ownership-transferred-advice = Si ce n’était pas convenu, un propriétaire peut le changer parmi les membres.
ownership-transferred-action = Voir les membres
access-review-scope-group = le groupe { $group } de { $account }
access-review-started-subject = Revue des accès : { $scope }
access-review-started-body = Une revue des accès de { $scope } a commencé ; vous en êtes l’un des réviseurs. Échéance : { $date }.
access-review-due-soon-subject = Rappel : revue des accès de { $scope }, échéance { $date }
access-review-due-soon-body = La revue des accès de { $scope } arrive à échéance le { $date }.
access-review-overdue-subject = En retard : revue des accès de { $scope }
access-review-overdue-body = La revue des accès de { $scope } devait être terminée le { $date } et ne l’est pas.
access-review-undecided = { $count ->
    [one] Un membre attend une décision : conserver, réduire ou retirer. Personne ne décide de son propre accès.
   *[other] { $count } membres attendent une décision : conserver, réduire ou retirer. Personne ne décide de son propre accès.
}
access-review-action = Ouvrir la revue
account-link-requested-subject = { $parent } demande à lier { $child }
account-link-requested-body = { $parent } a demandé à lier { $child } sous lui en tant que compte lié.
account-link-requested-effect = Dès qu’un propriétaire de { $child } accepte, les rôles que { $parent } étend à ses comptes liés s’appliquent aussi dans { $child }. Chaque côté peut mettre fin au lien à tout moment.
account-link-requested-advice = Si vous ne connaissez pas ce compte, refusez la demande.
account-link-requested-action = Examiner la demande

## Supprimer un compte
account-deletion-scheduled-subject = { $account } va être supprimé
account-deletion-scheduled-body = { $who } a supprimé le compte « { $account } » sur { $product }. D’ici son effacement, rien ne peut y changer, et ses invitations, liens d’adhésion, clés d’API et webhooks sont arrêtés.
account-deletion-scheduled-when = Il sera effacé définitivement le { $date } : ses membres, invitations, rôles, groupes et réglages.
account-deletion-scheduled-advice = S’il s’agit d’une erreur, un propriétaire peut restaurer le compte d’ici là.
account-deletion-scheduled-action = Ouvrir le compte
account-restored-subject = { $account } a été restauré
account-restored-body = { $who } a restauré le compte « { $account } » sur { $product } : il ne sera pas supprimé, et tout y fonctionne de nouveau.
account-restored-action = Ouvrir le compte

personal-export-ready-subject = Vos données { $product } sont prêtes
personal-export-ready-body = La copie de tout ce que { $product } détient sur vous, que vous avez demandée, est prête à être téléchargée.
personal-export-ready-when = Le lien fonctionne jusqu’au { $date } ; toute personne qui l’a peut télécharger la copie, ne transférez donc pas cet e-mail.
personal-export-ready-advice = Si vous ne l’avez pas demandée, changez votre mot de passe : quelqu’un d’autre est peut-être connecté en votre nom.
personal-export-ready-action = Télécharger vos données
