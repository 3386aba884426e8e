# The words of Roster's emails, in English. Every language has exactly the
# messages this file has (a test checks). { $product } is the product name
# the deployment is configured with; the other arguments are named where
# they are used, in ../templates.

## How dates are written (chrono's strftime, with this language's names)
datetime-format = %B %-d, %Y, %H:%M %Z
date-format = %B %-d, %Y

## Around every email
footer-sent-by = This email was sent by { $product }.
footer-support-email = Questions? Write to { $email }.
footer-support-url = Help: { $url }

## Invitations
invitation-subject = You are invited to join an account on { $product }
invitation-reminder-subject = Reminder: you have an invitation waiting on { $product }
invitation-intro = “{ $inviter }” invited you to join the account “{ $account }” on { $product }.
invitation-message = Their message to you:
invitation-valid-until = The invitation is valid until { $date }.
invitation-ignore = If you did not expect it, ignore this email.
invitation-accept = Accept the invitation

## Your address and password
email-verification-subject = Confirm your email address
email-verification-body = Confirm that this is your email address for { $product }.
email-verification-action = Confirm my email address
password-reset-subject = Reset your { $product } password
password-reset-body = Someone asked to reset the password of your { $product } account. The link works once, for one hour.
password-reset-ignore = If it was not you, ignore this email: your password stays as it is.
password-reset-action = Choose a new password
password-changed-subject = Your { $product } password was changed
password-changed-body = The password of your { $product } account was just changed, and your other sessions were signed out.
password-changed-warning = If you did not do this, reset your password now and tell your administrator.
email-change-subject = Confirm your new email address
email-change-body = Confirm that you want to sign in to { $product } with this email address from now on. The link works once, for one day.
email-change-action = Use this address
registration-attempted-subject = Someone tried to register with your email address
registration-attempted-body = Someone tried to create an account on { $product } with this email address, which has one already. Nothing changed.
registration-attempted-advice = If it was you, sign in instead; if you forgot your password, reset it from the sign-in page. If it was not you, you can ignore this email.
email-change-attempted-subject = Someone tried to use your email address
email-change-attempted-body = Someone signed in to another account on { $product } asked to move it to this email address, which has an account already. Nothing changed.
email-change-attempted-advice = If it was you, sign in with this address instead. If it was not you, you can ignore this email.
email-changed-subject = Your { $product } email address was changed
email-changed-body = Your { $product } account now signs in with { $email } instead of this address.
email-changed-warning = If you did not do this, tell your administrator at once.

## Spreadsheet imports
import-report-subject = Import finished for { $account }: { $invited } invited, { $skipped } skipped, { $failed } failed
import-report-intro = Your spreadsheet for { $account } has been imported: { $total } rows.
import-report-intro-named = Your spreadsheet { $file } for { $account } has been imported: { $total } rows.
import-report-counts = Invited: { $invited }. Skipped: { $skipped }. Failed: { $failed }.
import-report-failures = { $count ->
    [one] This entry could not be invited:
   *[other] These entries could not be invited:
}
import-report-failure = Row { $row }: { $email } — { $reason }
import-report-unlisted = { $count ->
    [one] …and one more.
   *[other] …and { $count } more.
}
import-report-fix = Fix them and upload those rows again. The attached file has the result of every row.
import-report-action = See the report
# The stored explanation ($detail) is English already; other languages say
# what is wrong in their own words.
import-reason-malformed_row = { $detail }
import-reason-invalid_email = { $detail }
import-reason-invalid_locale = { $detail }
import-reason-invalid_name = { $detail }
import-reason-unknown_role = { $detail }
import-reason-unknown_group = { $detail }
import-reason-role_not_grantable = { $detail }
import-reason-email_policy_refused = { $detail }
import-reason-email_domain_not_allowed = { $detail }
import-reason-too_many_roles = { $detail }
import-reason-uploader_lost_access = { $detail }
import-reason-seat_limit_reached = { $detail }
import-reason-other = { $detail }

## Join links
join-request-received-subject = { $who } asks to join { $account }
join-request-received-body = { $who } asks to join { $account } on { $product } through a join link.
join-request-received-message = Their message:
join-request-received-advice = Approve the request with the roles they should have, or deny it.
join-request-received-action = Review the request
join-request-approved-subject = You are now a member of { $account }
join-request-approved-body = Your request to join { $account } on { $product } was approved.
join-request-declined-subject = Your request to join { $account } was declined
join-request-declined-body = Your request to join { $account } on { $product } was declined.
join-request-reason = Reason: { $reason }
join-request-action = Open { $product }

## Directory sync
directory-welcome-subject = You were added to an account on { $product }
directory-welcome-body = Your organisation's directory added you to the account “{ $account }” on { $product }.
directory-welcome-single-sign-on = Sign in with your company's identity provider.
directory-welcome-set-password = Choose a password to sign in; the link works for 7 days (after that, use “Forgot password”).
directory-welcome-password = Sign in with your email and the password you already use.
directory-welcome-advice = If you did not expect it, ask your organisation's administrator.
directory-welcome-sign-in = Sign in
directory-welcome-choose-password = Choose a password

## Domains, webhooks and keys
domain-unverified-subject = { $domain } is no longer verified
domain-unverified-body = { $domain } is no longer a verified domain of { $account }: its DNS record was missing for 3 days.
domain-unverified-advice = Publish the record again (the domain shows it), then verify the domain again.
domain-unverified-action = See the domain
webhook-disabled-subject = Webhooks to { $url } were disabled
webhook-disabled-body = { $product } stopped sending webhooks of { $account } to { $url }.
webhook-disabled-reason = Why: { $reason }.
webhook-disabled-advice = Fix the receiver, then enable the endpoint again; deliveries that failed can be sent again one by one.
webhook-disabled-action = See the endpoint
api-key-created-subject = New API key for { $partner } in { $account }
api-key-created-body = { $creator } gave { $partner } an API key for { $account }: “{ $key }”.
api-key-created-permissions = It may: { $permissions }.
api-key-created-expiry = It expires on { $date }.
api-key-created-advice = If this is unexpected, revoke the key at once.
api-key-created-action = See the key

## Members and access
ownership-transferred-subject = { $account } has a new owner
ownership-transferred-body = { $previous } made { $new } an owner of { $account }.
ownership-transferred-previous = { $previous } is an administrator now.
ownership-transferred-advice = If this was not agreed, an owner can change it among the members.
ownership-transferred-action = See the members
access-review-scope-group = the group { $group } of { $account }
access-review-started-subject = Access review of { $scope }
access-review-started-body = An access review of { $scope } began; you are one of its reviewers. It is due { $date }.
access-review-due-soon-subject = Reminder: access review of { $scope } due { $date }
access-review-due-soon-body = The access review of { $scope } is due { $date }.
access-review-overdue-subject = Overdue: access review of { $scope }
access-review-overdue-body = The access review of { $scope } was due { $date } and is not completed.
access-review-undecided = { $count ->
    [one] One member waits for a decision: keep, reduce or remove. Nobody decides on their own access.
   *[other] { $count } members wait for a decision: keep, reduce or remove. Nobody decides on their own access.
}
access-review-action = Open the review
account-link-requested-subject = { $parent } asks to link { $child }
account-link-requested-body = { $parent } asked to link { $child } under it as a linked account.
account-link-requested-effect = Once an owner of { $child } accepts, the roles { $parent } extends to its linked accounts apply in { $child } too. Either side can end the link at any time.
account-link-requested-advice = If you do not know this account, decline the request.
account-link-requested-action = Review the request

## Deleting an account
account-deletion-scheduled-subject = { $account } is to be deleted
account-deletion-scheduled-body = { $who } deleted the account “{ $account }” on { $product }. Until it is erased, nothing in it can change, and its invitations, join links, API keys and webhooks have stopped.
account-deletion-scheduled-when = It will be erased for good on { $date }: its members, invitations, roles, groups and settings.
account-deletion-scheduled-advice = If this is a mistake, an owner can restore the account until then.
account-deletion-scheduled-action = Open the account
account-restored-subject = { $account } was restored
account-restored-body = { $who } restored the account “{ $account }” on { $product }: it will not be deleted, and everything in it works again.
account-restored-action = Open the account

personal-export-ready-subject = Your { $product } data is ready
personal-export-ready-body = The copy of everything { $product } holds about you, which you asked for, is ready to download.
personal-export-ready-when = The link works until { $date }; anyone who has it can download the copy, so do not forward this email.
personal-export-ready-advice = If you did not ask for it, change your password: someone else may be signed in as you.
personal-export-ready-action = Download your data
