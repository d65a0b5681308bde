-- oidc-provider's opaque ids are bearer secrets (the value of a refresh token or an authorization code
-- is its id, a session's id is its cookie value), so account.oauth_store keys its rows by their SHA-256
-- instead, computed as subgraphs/account/passport/store-key.ts computes it, and payloads stop repeating
-- them: no `jti`, and an Interaction keeps neither its session's cookie nor its own id in `returnTo`
-- (the adapter puts `{id}` there and restores it). Every live token, code, session, grant and
-- interaction keeps working; expired rows, which nothing can use any more, are dropped first.
DELETE FROM "account"."oauth_store" WHERE "expires_at" <= now();--> statement-breakpoint
UPDATE "account"."oauth_store" SET
	"id" = encode(sha256(convert_to("id", 'UTF8')), 'hex'),
	"payload" = CASE
		WHEN "model" = 'Interaction' AND jsonb_typeof("payload" -> 'returnTo') = 'string'
			THEN jsonb_set(("payload" - 'jti') #- '{session,cookie}', '{returnTo}', to_jsonb(replace("payload" ->> 'returnTo', "id", '{id}')))
		WHEN "model" = 'Interaction' THEN ("payload" - 'jti') #- '{session,cookie}'
		ELSE "payload" - 'jti'
	END;
