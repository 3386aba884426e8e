# メールの文面(日本語)。en.ftl と同じメッセージを持ちます。

## 日付の書式
datetime-format = %Y年%-m月%-d日 %H:%M %Z
date-format = %Y年%-m月%-d日

## すべてのメールの周り
footer-sent-by = このメールは { $product } から送信されました。
footer-support-email = ご質問は { $email } までお寄せください。
footer-support-url = ヘルプ: { $url }

## 招待
invitation-subject = { $product } のアカウントへの招待
invitation-reminder-subject = リマインダー: { $product } の招待が届いています
invitation-intro = 「{ $inviter }」さんから、{ $product } のアカウント「{ $account }」への招待が届いています。
invitation-message = メッセージ:
invitation-valid-until = この招待は { $date } まで有効です。
invitation-ignore = 心当たりがない場合は、このメールを無視してください。
invitation-accept = 招待を承諾する

## メールアドレスとパスワード
email-verification-subject = メールアドレスの確認
email-verification-body = これが { $product } で使うメールアドレスであることを確認してください。
email-verification-action = メールアドレスを確認する
password-reset-subject = { $product } のパスワードの再設定
password-reset-body = { $product } アカウントのパスワード再設定が依頼されました。このリンクは 1 時間、1 回だけ使えます。
password-reset-ignore = 心当たりがない場合は、このメールを無視してください。パスワードは変わりません。
password-reset-action = 新しいパスワードを設定する
password-changed-subject = { $product } のパスワードが変更されました
password-changed-body = { $product } アカウントのパスワードが変更され、ほかのセッションはすべてサインアウトされました。
password-changed-warning = 心当たりがない場合は、今すぐパスワードを再設定し、管理者に連絡してください。
email-change-subject = 新しいメールアドレスの確認
email-change-body = 今後このメールアドレスで { $product } にサインインすることを確認してください。このリンクは 1 日、1 回だけ使えます。
email-change-action = このアドレスを使う
registration-attempted-subject = あなたのメールアドレスで登録が試みられました
registration-attempted-body = このメールアドレスで { $product } アカウントの作成が試みられましたが、すでにアカウントがあります。何も変更されていません。
registration-attempted-advice = ご自身の場合はサインインしてください。パスワードを忘れた場合はサインインページから再設定できます。心当たりがない場合は、このメールを無視してください。
email-change-attempted-subject = あなたのメールアドレスの使用が試みられました
email-change-attempted-body = 別の { $product } アカウントにサインインしている人が、そのアカウントをこのメールアドレスに移そうとしましたが、このアドレスにはすでにアカウントがあります。何も変更されていません。
email-change-attempted-advice = ご自身の場合は、このアドレスでサインインしてください。心当たりがない場合は、このメールを無視してください。
email-changed-subject = { $product } のメールアドレスが変更されました
email-changed-body = あなたの { $product } アカウントは、今後このアドレスではなく { $email } でサインインします。
email-changed-warning = 心当たりがない場合は、すぐに管理者に連絡してください。

## スプレッドシートの取り込み
import-report-subject = { $account } の取り込みが完了しました: 招待 { $invited } 件、スキップ { $skipped } 件、失敗 { $failed } 件
import-report-intro = { $account } 向けのスプレッドシートを取り込みました: { $total } 行。
import-report-intro-named = { $account } 向けのスプレッドシート { $file } を取り込みました: { $total } 行。
import-report-counts = 招待: { $invited } 件。スキップ: { $skipped } 件。失敗: { $failed } 件。
import-report-failures = 次の行は招待できませんでした:
import-report-failure = { $row } 行目: { $email } — { $reason }
import-report-unlisted = ほか { $count } 件。
import-report-fix = 修正してから、その行をもう一度アップロードしてください。添付ファイルにすべての行の結果があります。
import-report-action = レポートを見る
import-reason-malformed_row = 行の列がテンプレートと一致しません
import-reason-invalid_email = メールアドレスが正しくありません
import-reason-invalid_locale = 言語(locale)が正しい言語タグではありません
import-reason-invalid_name = 名または姓が正しくありません
import-reason-unknown_role = 指定されたロールがこのアカウントにありません
import-reason-unknown_group = 指定されたグループがこのアカウントにありません
import-reason-role_not_grantable = 指定されたロールを付与する権限がありません
import-reason-email_policy_refused = このアカウントは既存のアカウントを持たない人だけを招待します
import-reason-email_domain_not_allowed = アドレスがアカウントのどのドメインにも属していません
import-reason-too_many_roles = メンバーが持てる数より多くのロールを付与しています
import-reason-uploader_lost_access = このアカウントで取り込みを行う権限がなくなりました
import-reason-seat_limit_reached = プランの空き席がありません
import-reason-other = { $detail }

## 参加リンク
join-request-received-subject = { $who } さんが { $account } への参加を希望しています
join-request-received-body = { $who } さんが参加リンクから { $product } の { $account } への参加を希望しています。
join-request-received-message = メッセージ:
join-request-received-advice = 適切なロールを付けて承認するか、拒否してください。
join-request-received-action = リクエストを確認する
join-request-approved-subject = { $account } のメンバーになりました
join-request-approved-body = { $product } の { $account } への参加リクエストが承認されました。
join-request-declined-subject = { $account } への参加リクエストは拒否されました
join-request-declined-body = { $product } の { $account } への参加リクエストは拒否されました。
join-request-reason = 理由: { $reason }
join-request-action = { $product } を開く

## ディレクトリ同期
directory-welcome-subject = { $product } のアカウントに追加されました
directory-welcome-body = 組織のディレクトリによって、{ $product } のアカウント「{ $account }」に追加されました。
directory-welcome-single-sign-on = 会社の ID プロバイダーでサインインしてください。
directory-welcome-set-password = パスワードを設定してサインインしてください。リンクは 7 日間有効です(その後は「パスワードをお忘れの方」を使ってください)。
directory-welcome-password = メールアドレスと、いつものパスワードでサインインしてください。
directory-welcome-advice = 心当たりがない場合は、組織の管理者にお問い合わせください。
directory-welcome-sign-in = サインイン
directory-welcome-choose-password = パスワードを設定する

## ドメイン、Webhook、キー
domain-unverified-subject = { $domain } は検証済みではなくなりました
domain-unverified-body = { $domain } は { $account } の検証済みドメインではなくなりました。DNS レコードが 3 日間見つかりませんでした。
domain-unverified-advice = レコードをもう一度公開し(ドメインの画面に表示されます)、ドメインを再検証してください。
domain-unverified-action = ドメインを見る
webhook-disabled-subject = { $url } への Webhook を停止しました
webhook-disabled-body = { $product } は { $account } の Webhook を { $url } に送るのを停止しました。
webhook-disabled-reason = 理由: { $reason }。
webhook-disabled-advice = 受信側を修正してから、エンドポイントを再び有効にしてください。失敗した配信は 1 件ずつ再送できます。
webhook-disabled-action = エンドポイントを見る
api-key-created-subject = { $account } で { $partner } に新しい API キー
api-key-created-body = { $creator } さんが { $partner } に { $account } の API キー「{ $key }」を発行しました。
api-key-created-permissions = 許可されている操作: { $permissions }。
api-key-created-expiry = 有効期限は { $date } です。
api-key-created-advice = 心当たりがない場合は、すぐにキーを無効にしてください。
api-key-created-action = キーを見る

## メンバーとアクセス
ownership-transferred-subject = { $account } に新しいオーナーがいます
ownership-transferred-body = { $previous } さんが { $new } さんを { $account } のオーナーにしました。
ownership-transferred-previous = { $previous } さんは現在、管理者です。
ownership-transferred-advice = 合意のない変更であれば、オーナーがメンバー画面で変更できます。
ownership-transferred-action = メンバーを見る
access-review-scope-group = { $account } のグループ { $group }
access-review-started-subject = アクセスレビュー: { $scope }
access-review-started-body = { $scope } のアクセスレビューが始まりました。あなたはレビュー担当者の一人です。期限は { $date } です。
access-review-due-soon-subject = リマインダー: { $scope } のアクセスレビューの期限は { $date } です
access-review-due-soon-body = { $scope } のアクセスレビューの期限は { $date } です。
access-review-overdue-subject = 期限切れ: { $scope } のアクセスレビュー
access-review-overdue-body = { $scope } のアクセスレビューは { $date } が期限でしたが、完了していません。
access-review-undecided = { $count } 人のメンバーが判断を待っています: 維持、縮小、または削除。自分自身のアクセスは判断できません。
access-review-action = レビューを開く
account-link-requested-subject = { $parent } が { $child } とのリンクを求めています
account-link-requested-body = { $parent } が { $child } をリンクされたアカウントとして配下に置くことを求めています。
account-link-requested-effect = { $child } のオーナーが承諾すると、{ $parent } がリンク先に広げるロールが { $child } でも有効になります。どちらの側もいつでもリンクを解除できます。
account-link-requested-advice = このアカウントに心当たりがない場合は、リクエストを拒否してください。
account-link-requested-action = リクエストを確認する

## アカウントの削除
account-deletion-scheduled-subject = { $account } は削除される予定です
account-deletion-scheduled-body = { $who } さんが { $product } のアカウント「{ $account }」を削除しました。完全に消去されるまで、アカウント内は変更できず、招待、参加リンク、API キー、Webhook は停止しています。
account-deletion-scheduled-when = { $date } に、メンバー、招待、ロール、グループ、設定とともに完全に消去されます。
account-deletion-scheduled-advice = 誤りの場合は、それまでにオーナーがアカウントを復元できます。
account-deletion-scheduled-action = アカウントを開く
account-restored-subject = { $account } は復元されました
account-restored-body = { $who } さんが { $product } のアカウント「{ $account }」を復元しました。削除されることはなく、すべて元どおり使えます。
account-restored-action = アカウントを開く

personal-export-ready-subject = { $product } のデータの準備ができました
personal-export-ready-body = ご依頼の、{ $product } が保持しているあなたのデータのコピーをダウンロードできます。
personal-export-ready-when = リンクは { $date } まで有効です。リンクを知っている人は誰でもコピーをダウンロードできるため、このメールは転送しないでください。
personal-export-ready-advice = 心当たりがない場合は、パスワードを変更してください。他の人があなたとしてサインインしている可能性があります。
personal-export-ready-action = データをダウンロードする
