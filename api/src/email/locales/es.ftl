# Las palabras de los correos, en español (trato de usted). Los mismos mensajes que en.ftl.

## Formatos de fecha
datetime-format = %-d de %B de %Y, %H:%M %Z
date-format = %-d de %B de %Y

## Alrededor de cada correo
footer-sent-by = Este correo lo envió { $product }.
footer-support-email = ¿Preguntas? Escriba a { $email }.
footer-support-url = Ayuda: { $url }

## Invitaciones
invitation-subject = Le han invitado a unirse a una cuenta en { $product }
invitation-reminder-subject = Recordatorio: tiene una invitación pendiente en { $product }
invitation-intro = «{ $inviter }» le ha invitado a unirse a la cuenta «{ $account }» en { $product }.
invitation-message = Su mensaje:
invitation-valid-until = La invitación es válida hasta el { $date }.
invitation-ignore = Si no la esperaba, ignore este correo.
invitation-accept = Aceptar la invitación

## Dirección y contraseña
email-verification-subject = Confirme su dirección de correo
email-verification-body = Confirme que esta es su dirección de correo para { $product }.
email-verification-action = Confirmar mi dirección de correo
password-reset-subject = Restablezca su contraseña de { $product }
password-reset-body = Alguien pidió restablecer la contraseña de su cuenta de { $product }. El enlace funciona una vez, durante una hora.
password-reset-ignore = Si no fue usted, ignore este correo: su contraseña sigue igual.
password-reset-action = Elegir una contraseña nueva
password-changed-subject = Su contraseña de { $product } ha cambiado
password-changed-body = La contraseña de su cuenta de { $product } acaba de cambiar, y sus otras sesiones se han cerrado.
password-changed-warning = Si no fue usted, restablezca su contraseña ahora y avise a su administrador.
email-change-subject = Confirme su nueva dirección de correo
email-change-body = Confirme que a partir de ahora quiere iniciar sesión en { $product } con esta dirección de correo. El enlace funciona una vez, durante un día.
email-change-action = Usar esta dirección
registration-attempted-subject = Alguien intentó registrarse con su dirección de correo
registration-attempted-body = Alguien intentó crear una cuenta de { $product } con esta dirección de correo, que ya tiene una. No ha cambiado nada.
registration-attempted-advice = Si fue usted, inicie sesión; si olvidó su contraseña, restablézcala desde la página de inicio de sesión. Si no fue usted, puede ignorar este correo.
email-change-attempted-subject = Alguien intentó usar su dirección de correo
email-change-attempted-body = Alguien con sesión en otra cuenta de { $product } pidió trasladarla a esta dirección de correo, que ya tiene una cuenta. No ha cambiado nada.
email-change-attempted-advice = Si fue usted, inicie sesión con esta dirección. Si no fue usted, puede ignorar este correo.
email-changed-subject = Su dirección de correo de { $product } ha cambiado
email-changed-body = Su cuenta de { $product } ahora inicia sesión con { $email } en lugar de esta dirección.
email-changed-warning = Si no fue usted, avise de inmediato a su administrador.

## Importaciones de hojas de cálculo
import-report-subject = Importación terminada para { $account }: { $invited } invitados, { $skipped } omitidos, { $failed } con error
import-report-intro = Su hoja de cálculo para { $account } se ha importado: { $total } filas.
import-report-intro-named = Su hoja de cálculo { $file } para { $account } se ha importado: { $total } filas.
import-report-counts = Invitados: { $invited }. Omitidos: { $skipped }. Con error: { $failed }.
import-report-failures = { $count ->
    [one] No se pudo invitar a esta entrada:
   *[other] No se pudo invitar a estas entradas:
}
import-report-failure = Fila { $row }: { $email } — { $reason }
import-report-unlisted = { $count ->
    [one] …y una más.
   *[other] …y { $count } más.
}
import-report-fix = Corríjalas y vuelva a subir esas filas. El archivo adjunto tiene el resultado de cada fila.
import-report-action = Ver el informe
import-reason-malformed_row = la fila no tiene las columnas de la plantilla
import-reason-invalid_email = la dirección de correo no es válida
import-reason-invalid_locale = el idioma (locale) no es un código de idioma válido
import-reason-invalid_name = el nombre o el apellido no es válido
import-reason-unknown_role = un rol indicado no existe en esta cuenta
import-reason-unknown_group = un grupo indicado no existe en esta cuenta
import-reason-role_not_grantable = usted no puede otorgar un rol indicado
import-reason-email_policy_refused = la cuenta solo invita a personas sin cuenta existente
import-reason-email_domain_not_allowed = la dirección no pertenece a ningún dominio de la cuenta
import-reason-too_many_roles = la fila otorga más roles de los que puede tener un miembro
import-reason-uploader_lost_access = usted ya no puede importar en esta cuenta
import-reason-seat_limit_reached = el plan no tiene plazas libres
import-reason-other = { $detail }

## Enlaces de acceso
join-request-received-subject = { $who } pide unirse a { $account }
join-request-received-body = { $who } pide unirse a { $account } en { $product } mediante un enlace de acceso.
join-request-received-message = Su mensaje:
join-request-received-advice = Apruebe la solicitud con los roles que correspondan, o recházela.
join-request-received-action = Revisar la solicitud
join-request-approved-subject = Ahora es miembro de { $account }
join-request-approved-body = Su solicitud para unirse a { $account } en { $product } fue aprobada.
join-request-declined-subject = Su solicitud para unirse a { $account } fue rechazada
join-request-declined-body = Su solicitud para unirse a { $account } en { $product } fue rechazada.
join-request-reason = Motivo: { $reason }
join-request-action = Abrir { $product }

## Sincronización del directorio
directory-welcome-subject = Le han añadido a una cuenta en { $product }
directory-welcome-body = El directorio de su organización le ha añadido a la cuenta «{ $account }» en { $product }.
directory-welcome-single-sign-on = Inicie sesión con el proveedor de identidad de su empresa.
directory-welcome-set-password = Elija una contraseña para iniciar sesión; el enlace funciona durante 7 días (después, use «He olvidado mi contraseña»).
directory-welcome-password = Inicie sesión con su correo y la contraseña que ya usa.
directory-welcome-advice = Si no lo esperaba, consulte al administrador de su organización.
directory-welcome-sign-in = Iniciar sesión
directory-welcome-choose-password = Elegir una contraseña

## Dominios, webhooks y claves
domain-unverified-subject = { $domain } ya no está verificado
domain-unverified-body = { $domain } ya no es un dominio verificado de { $account }: su registro DNS faltó durante 3 días.
domain-unverified-advice = Vuelva a publicar el registro (el dominio lo muestra) y verifique el dominio de nuevo.
domain-unverified-action = Ver el dominio
webhook-disabled-subject = Se desactivaron los webhooks a { $url }
webhook-disabled-body = { $product } dejó de enviar los webhooks de { $account } a { $url }.
webhook-disabled-reason = Motivo: { $reason }.
webhook-disabled-advice = Arregle el receptor y vuelva a activar el endpoint; las entregas fallidas pueden reenviarse una a una.
webhook-disabled-action = Ver el endpoint
api-key-created-subject = Nueva clave de API para { $partner } en { $account }
api-key-created-body = { $creator } dio a { $partner } una clave de API para { $account }: «{ $key }».
api-key-created-permissions = Puede: { $permissions }.
api-key-created-expiry = Caduca el { $date }.
api-key-created-advice = Si no lo esperaba, revoque la clave de inmediato.
api-key-created-action = Ver la clave

## Miembros y acceso
ownership-transferred-subject = { $account } tiene un nuevo propietario
ownership-transferred-body = { $previous } hizo a { $new } propietario de { $account }.
ownership-transferred-previous = { $previous } ahora es administrador.
ownership-transferred-advice = Si no se había acordado, un propietario puede cambiarlo entre los miembros.
ownership-transferred-action = Ver los miembros
access-review-scope-group = el grupo { $group } de { $account }
access-review-started-subject = Revisión de accesos: { $scope }
access-review-started-body = Ha comenzado una revisión de accesos de { $scope }; usted es uno de sus revisores. Vence el { $date }.
access-review-due-soon-subject = Recordatorio: la revisión de accesos de { $scope } vence el { $date }
access-review-due-soon-body = La revisión de accesos de { $scope } vence el { $date }.
access-review-overdue-subject = Vencida: revisión de accesos de { $scope }
access-review-overdue-body = La revisión de accesos de { $scope } vencía el { $date } y no está terminada.
access-review-undecided = { $count ->
    [one] Un miembro espera una decisión: mantener, reducir o quitar. Nadie decide sobre su propio acceso.
   *[other] { $count } miembros esperan una decisión: mantener, reducir o quitar. Nadie decide sobre su propio acceso.
}
access-review-action = Abrir la revisión
account-link-requested-subject = { $parent } pide vincular { $child }
account-link-requested-body = { $parent } pidió vincular { $child } bajo ella como cuenta vinculada.
account-link-requested-effect = Cuando un propietario de { $child } acepte, los roles que { $parent } extiende a sus cuentas vinculadas se aplicarán también en { $child }. Cualquiera de las dos partes puede terminar el vínculo en cualquier momento.
account-link-requested-advice = Si no conoce esta cuenta, rechace la solicitud.
account-link-requested-action = Revisar la solicitud

## Eliminar una cuenta
account-deletion-scheduled-subject = { $account } se va a eliminar
account-deletion-scheduled-body = { $who } eliminó la cuenta «{ $account }» en { $product }. Hasta que se borre, nada en ella puede cambiar, y sus invitaciones, enlaces de acceso, claves de API y webhooks se han detenido.
account-deletion-scheduled-when = Se borrará definitivamente el { $date }: sus miembros, invitaciones, roles, grupos y ajustes.
account-deletion-scheduled-advice = Si es un error, un propietario puede restaurar la cuenta hasta entonces.
account-deletion-scheduled-action = Abrir la cuenta
account-restored-subject = { $account } se ha restaurado
account-restored-body = { $who } restauró la cuenta «{ $account }» en { $product }: no se eliminará y todo en ella vuelve a funcionar.
account-restored-action = Abrir la cuenta

personal-export-ready-subject = Sus datos de { $product } están listos
personal-export-ready-body = La copia de todo lo que { $product } guarda sobre usted, que pidió, está lista para descargar.
personal-export-ready-when = El enlace funciona hasta el { $date }; cualquiera que lo tenga puede descargar la copia, así que no reenvíe este correo.
personal-export-ready-advice = Si no la pidió, cambie su contraseña: puede que otra persona haya iniciado sesión como usted.
personal-export-ready-action = Descargar sus datos
