// Generated from api/openapi.json by scripts/openapi-client.mjs (`npm run openapi`). Do not edit.

export interface paths {
    "/manage/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List audit events, newest first
         * @description Management changes, failed management authentications and refused proxy requests (per token, reason and minute), with who, from where and what changed. Filters combine; `action` takes an action or a glob (`token.*`, `*.deleted`); a pattern that matches no action is a 400 listing them.
         *
         *     Needs the role `viewer` or a stronger one.
         */
        get: {
            parameters: {
                query?: {
                    /** @description An action (token.created), or a glob where * matches any characters (token.*, *.deleted); events recorded under an older name of a matching action are included */
                    action?: string;
                    /** @description Actor type (management-token, system, token, anonymous), or type:id (token:<id>, system:maintenance) */
                    actor?: string;
                    /** @description next_cursor of the previous page */
                    cursor?: string;
                    /** @description Start, RFC 3339 or epoch ms (inclusive) */
                    from?: string;
                    limit?: number;
                    target_id?: string;
                    /** @description project, token, model, route, audit */
                    target_type?: string;
                    /** @description End, RFC 3339 or epoch ms (exclusive) */
                    to?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                action: string;
                                actor_id: string | null;
                                /** @description management-token, system, token, anonymous (later user) */
                                actor_type: string;
                                /** @description The changed fields before and after; never a secret (an upstream key only as its hint) */
                                changes: {
                                    after: {
                                        [key: string]: unknown;
                                    } | null;
                                    before: {
                                        [key: string]: unknown;
                                    } | null;
                                } | null;
                                /** @description null when unknown, or with AUDIT_CLIENT_IP=false */
                                client_ip: string | null;
                                /** @description Counts, ids, filters, reasons: see docs/observability.md#audit-trail */
                                details: {
                                    [key: string]: unknown;
                                } | null;
                                /** @description HMAC-SHA256 over prev_hash and this event */
                                hash: string;
                                id: string;
                                /** @description Id of the encryption key whose derived audit key signed the event */
                                key_id: string;
                                /** @description Hash of the event before ("" for the first) */
                                prev_hash: string;
                                request_id: string | null;
                                /** @description Position in the chain (1, 2, 3, …) */
                                seq: number;
                                target_id: string | null;
                                target_type: string | null;
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                time: string;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/auth-methods": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** How one can sign in here (no authentication) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Single sign-on is configured (GET /manage/oidc/login) */
                            oidc: boolean;
                            /** @description At least one enabled admin user exists */
                            password: boolean;
                            /** @description Sign-in with the management token (always) */
                            token: boolean;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/instances": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the running instances, and the database and Redis as this one sees them
         * @description Every server process sharing the database, oldest first, from the heartbeat each writes every INSTANCE_HEARTBEAT_MS. A graceful stop removes an instance at once; one that died shows as `gone` after INSTANCE_GONE_AFTER_MS and is removed by the maintenance job a day later.
         *
         *     Needs the role `viewer` or a stronger one.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                /** @description The database as it saw it at its last heartbeat: `ok` or `failing: …` */
                                database: string;
                                host: string;
                                /** @description The instance id: host:pid:random (random per process start) */
                                id: string;
                                /** @description Proxy requests in flight at its last heartbeat */
                                in_flight: number;
                                /**
                                 * Format: date-time
                                 * @description Its last heartbeat
                                 */
                                last_seen_at: string;
                                /** @description The URL the process listens on, as it logged it */
                                listen: string | null;
                                pid: number;
                                /** @description The Redis limiter as it saw it (`ok`, `failing`); null without REDIS_URL */
                                redis: string | null;
                                /** @description Whether this is the instance that answered */
                                self: boolean;
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                started_at: string;
                                /**
                                 * @description `live`: heartbeats arrive; `draining`: shutting down gracefully; `gone`: no heartbeat for `gone_after_ms`
                                 * @enum {string}
                                 */
                                state: "live" | "draining" | "gone";
                                /** @description How long it has run (until its last heartbeat when gone) */
                                uptime_seconds: number;
                                version: string;
                                /** @description Its WORKERS slot (0 to N-1) when the process is one of several on the host; null otherwise */
                                worker: number | null;
                            }[];
                            /** @description The database as the answering instance sees it; while `unreachable`, `data` lists only that instance */
                            database: {
                                kind: string;
                                /** @enum {string} */
                                status: "ok" | "unreachable";
                            };
                            /** @description INSTANCE_GONE_AFTER_MS */
                            gone_after_ms: number;
                            /** @description Always null: every instance is on one page */
                            next_cursor: null;
                            /** @description The Redis limiter as the answering instance sees it (REDIS_FAILURE_MODE as `mode`); null without REDIS_URL */
                            redis: {
                                mode: string;
                                state: string;
                            } | null;
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The signed-in user (same as GET /manage/session)
         * @description Needs a session cookie.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The signed-in session */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            auth_method: "token" | "password" | "oidc";
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            /** @description Send as x-csrf-token on every POST, PUT, PATCH and DELETE made with the session cookie */
                            csrf_token: string;
                            /**
                             * Format: date-time
                             * @description Absolute expiry (ADMIN_SESSION_MAX_HOURS after sign-in)
                             */
                            expires_at: string;
                            /**
                             * Format: date-time
                             * @description When the session ends unless used (ADMIN_SESSION_IDLE_MINUTES)
                             */
                            idle_expires_at: string;
                            /** @description Public id of the session (not the cookie) */
                            session_id: string;
                            user: {
                                /** @description An admin user id, `management-token`, or `oidc:<subject>` */
                                id: string;
                                /**
                                 * @description viewer < operator < admin
                                 * @enum {string}
                                 */
                                role: "viewer" | "operator" | "admin";
                                username: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/oidc/callback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The identity provider's redirect back: signs in and redirects to /admin/
         * @description Verifies the state, exchanges the code, verifies the ID token (issuer, audience, nonce, expiry, signature against the JWKS) and maps the user to a role. On failure a browser is redirected to `/admin/?sign_in_error=<code>`; other clients get the error as JSON.
         */
        get: {
            parameters: {
                query?: {
                    /** @description The authorization code */
                    code?: string | string[];
                    /** @description The provider refused: access_denied, login_required, … */
                    error?: string | string[];
                    error_description?: string | string[];
                    /** @description The issuer (RFC 9207), when the provider sends it */
                    iss?: string | string[];
                    /** @description The state sent with /manage/oidc/login */
                    state?: string | string[];
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description No content */
                302: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/oidc/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Start single sign-on: redirects to the identity provider
         * @description Authorization code flow with PKCE (S256); state, nonce and verifier travel sealed in a 10-minute HttpOnly `llmp_oidc` cookie (SameSite=Lax, Path=/manage/oidc).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description No content */
                302: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/pricing": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The effective pricing table (USD per 1M tokens)
         * @description Needs the role `viewer` or a stronger one.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description PricingTable */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Model names priced as another model */
                            aliases: {
                                [key: string]: string;
                            };
                            /** @description Date of the newest pricing file in effect */
                            as_of: string | null;
                            data: {
                                audio_input: number | null;
                                audio_output: number | null;
                                cached_audio_input: number | null;
                                cached_image_input: number | null;
                                cached_input: number | null;
                                image_input: number | null;
                                image_output: number | null;
                                input: number;
                                model: string;
                                output: number;
                                per_1m_characters: number | null;
                                per_image: {
                                    [key: string]: {
                                        [key: string]: number;
                                    };
                                } | null;
                                per_minute: number | null;
                                reasoning: number | null;
                                /**
                                 * @description Shipped table, PRICING_FILE, or the API
                                 * @enum {string}
                                 */
                                source: "built_in" | "file" | "override";
                                tiers: {
                                    [key: string]: {
                                        /** @description USD per 1M audio input tokens (default: input) */
                                        audio_input?: number;
                                        /** @description USD per 1M audio output tokens (default: output) */
                                        audio_output?: number;
                                        /** @description USD per 1M cached audio input tokens (default: audio_input) */
                                        cached_audio_input?: number;
                                        /** @description USD per 1M cached image input tokens (default: image_input) */
                                        cached_image_input?: number;
                                        /** @description USD per 1M cached input tokens (default: input) */
                                        cached_input?: number;
                                        /** @description USD per 1M image input tokens (default: input) */
                                        image_input?: number;
                                        /** @description USD per 1M image output tokens (default: output) */
                                        image_output?: number;
                                        input?: number;
                                        output?: number;
                                        /** @description USD per 1M reasoning tokens, where priced apart from output */
                                        reasoning?: number;
                                    };
                                } | null;
                                /** @description When the override was set; null for file prices */
                                updated_at: string | null;
                            }[];
                            /** @description Service tiers' token rates as a multiple of the standard rates (flex, batch) */
                            service_tiers: {
                                [key: string]: number;
                            };
                            /** @description Tool fees, charged per call on top of tokens */
                            tools: {
                                [key: string]: {
                                    /** @description By model or family prefix */
                                    models?: {
                                        [key: string]: number;
                                    };
                                    /** @description USD per 1k calls (code_interpreter: per 1k containers) */
                                    per_1k_calls: number;
                                };
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/pricing/{model}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Set a model's price (an override, applied to the next request)
         * @description Needs the role `admin` or a stronger one.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Model name as clients send it (dated snapshots fall back to the undated name) */
                    model: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description USD per 1M audio input tokens (default: input) */
                        audio_input?: number;
                        /** @description USD per 1M audio output tokens (default: output) */
                        audio_output?: number;
                        /** @description USD per 1M cached audio input tokens (default: audio_input) */
                        cached_audio_input?: number;
                        /** @description USD per 1M cached image input tokens (default: image_input) */
                        cached_image_input?: number;
                        /** @description USD per 1M cached input tokens (default: input) */
                        cached_input?: number;
                        /** @description USD per 1M image input tokens (default: input) */
                        image_input?: number;
                        /** @description USD per 1M image output tokens (default: output) */
                        image_output?: number;
                        /** @description USD per 1M input tokens (0 for a model billed only by other units) */
                        input: number;
                        /** @description USD per 1M output tokens */
                        output: number;
                        /** @description USD per 1M characters of speech input, where the response reports no tokens (tts-1) */
                        per_1m_characters?: number;
                        /** @description USD per image by size and quality, e.g. {"1024x1024": {"standard": 0.04, "hd": 0.08}} */
                        per_image?: {
                            [key: string]: {
                                [key: string]: number;
                            };
                        };
                        /** @description USD per minute of audio, where the response reports no tokens (whisper-1) */
                        per_minute?: number;
                        /** @description USD per 1M reasoning tokens, where priced apart from output */
                        reasoning?: number;
                        /** @description A service tier's own token rates (e.g. priority); rates it omits follow the table's tier multiplier */
                        tiers?: {
                            [key: string]: {
                                /** @description USD per 1M audio input tokens (default: input) */
                                audio_input?: number;
                                /** @description USD per 1M audio output tokens (default: output) */
                                audio_output?: number;
                                /** @description USD per 1M cached audio input tokens (default: audio_input) */
                                cached_audio_input?: number;
                                /** @description USD per 1M cached image input tokens (default: image_input) */
                                cached_image_input?: number;
                                /** @description USD per 1M cached input tokens (default: input) */
                                cached_input?: number;
                                /** @description USD per 1M image input tokens (default: input) */
                                image_input?: number;
                                /** @description USD per 1M image output tokens (default: output) */
                                image_output?: number;
                                input?: number;
                                output?: number;
                                /** @description USD per 1M reasoning tokens, where priced apart from output */
                                reasoning?: number;
                            };
                        };
                    };
                };
            };
            responses: {
                /** @description Price */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            audio_input: number | null;
                            audio_output: number | null;
                            cached_audio_input: number | null;
                            cached_image_input: number | null;
                            cached_input: number | null;
                            image_input: number | null;
                            image_output: number | null;
                            input: number;
                            model: string;
                            output: number;
                            per_1m_characters: number | null;
                            per_image: {
                                [key: string]: {
                                    [key: string]: number;
                                };
                            } | null;
                            per_minute: number | null;
                            reasoning: number | null;
                            /**
                             * @description Shipped table, PRICING_FILE, or the API
                             * @enum {string}
                             */
                            source: "built_in" | "file" | "override";
                            tiers: {
                                [key: string]: {
                                    /** @description USD per 1M audio input tokens (default: input) */
                                    audio_input?: number;
                                    /** @description USD per 1M audio output tokens (default: output) */
                                    audio_output?: number;
                                    /** @description USD per 1M cached audio input tokens (default: audio_input) */
                                    cached_audio_input?: number;
                                    /** @description USD per 1M cached image input tokens (default: image_input) */
                                    cached_image_input?: number;
                                    /** @description USD per 1M cached input tokens (default: input) */
                                    cached_input?: number;
                                    /** @description USD per 1M image input tokens (default: input) */
                                    image_input?: number;
                                    /** @description USD per 1M image output tokens (default: output) */
                                    image_output?: number;
                                    input?: number;
                                    output?: number;
                                    /** @description USD per 1M reasoning tokens, where priced apart from output */
                                    reasoning?: number;
                                };
                            } | null;
                            /** @description When the override was set; null for file prices */
                            updated_at: string | null;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        post?: never;
        /**
         * Remove a model's override (back to the pricing files)
         * @description Needs the role `admin` or a stronger one.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Model name as clients send it (dated snapshots fall back to the undated name) */
                    model: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description No content */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/projects": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List projects
         * @description Needs the role `viewer` or a stronger one.
         */
        get: {
            parameters: {
                query?: {
                    /** @description next_cursor of the previous page */
                    cursor?: string;
                    limit?: number;
                    /** @description Names containing this text, ignoring case */
                    name?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                allowed_endpoints: string[] | null;
                                allowed_models: string[] | null;
                                /** @description Masked upstream key, e.g. sk-…abcd; the key itself is never returned */
                                api_key_hint: string;
                                base_url: string | null;
                                /** @enum {string} */
                                budget_period: "total" | "day" | "month";
                                budget_usd: number | null;
                                cache_ttl_seconds: number | null;
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                created_at: string;
                                id: string;
                                is_active: boolean;
                                max_concurrent: number | null;
                                max_requests: number | null;
                                name: string;
                                request_count: number;
                                requests_per_minute: number | null;
                                /** @description 5xx answers and upstream timeouts are retried without an Idempotency-Key (resilience.md) */
                                retry_server_errors: boolean;
                                tokens_per_minute: number | null;
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                updated_at: string;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        /**
         * Create a project
         * @description Needs the role `admin` or a stronger one.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Endpoint rules such as "POST /v1/chat/*" or "/v1/embeddings"; null allows all */
                        allowed_endpoints?: string[] | null;
                        /** @description Model globs such as "gpt-4o*"; null allows all */
                        allowed_models?: string[] | null;
                        /** @description Real upstream API key; stored encrypted, never returned. Visible ASCII or Latin-1 characters, no surrounding spaces */
                        api_key: string;
                        base_url?: string | null;
                        /**
                         * @description Budget window: lifetime, UTC day or UTC month (default total)
                         * @enum {string}
                         */
                        budget_period?: "total" | "day" | "month";
                        /** @description Spending cap in US dollars (up to nine decimals, at most 9,000,000); null for none */
                        budget_usd?: number | null;
                        /** @description Seconds the response cache keeps the project's answers to cacheable requests (capped by CACHE_MAX_TTL_SECONDS); null: not cached unless a request asks with Cache-Control: max-age */
                        cache_ttl_seconds?: number | null;
                        is_active?: boolean;
                        /** @description Requests in flight at once (streams included); one more gets 429 concurrency_limit_exceeded; null for none */
                        max_concurrent?: number | null;
                        /** @description Lifetime request cap; null for none */
                        max_requests?: number | null;
                        name: string;
                        /** @description Requests per minute (GCRA: bursts up to the limit); null for none */
                        requests_per_minute?: number | null;
                        /** @description Retry a 5xx answer or an upstream timeout (the upstream may have run the request) on another key, or after a backoff, even without an Idempotency-Key; default false. 429s and failed connections are retried regardless */
                        retry_server_errors?: boolean;
                        /** @description Tokens per minute, reserved from the request and settled on actual usage; null for none */
                        tokens_per_minute?: number | null;
                    };
                };
            };
            responses: {
                /** @description Project */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            allowed_endpoints: string[] | null;
                            allowed_models: string[] | null;
                            /** @description Masked upstream key, e.g. sk-…abcd; the key itself is never returned */
                            api_key_hint: string;
                            base_url: string | null;
                            /** @enum {string} */
                            budget_period: "total" | "day" | "month";
                            budget_usd: number | null;
                            cache_ttl_seconds: number | null;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            id: string;
                            is_active: boolean;
                            max_concurrent: number | null;
                            max_requests: number | null;
                            name: string;
                            request_count: number;
                            requests_per_minute: number | null;
                            /** @description 5xx answers and upstream timeouts are retried without an Idempotency-Key (resilience.md) */
                            retry_server_errors: boolean;
                            tokens_per_minute: number | null;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            updated_at: string;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/projects/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a project, with its lifetime usage
         * @description Needs the role `viewer` or a stronger one.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Project with usage */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            allowed_endpoints: string[] | null;
                            allowed_models: string[] | null;
                            /** @description Masked upstream key, e.g. sk-…abcd; the key itself is never returned */
                            api_key_hint: string;
                            base_url: string | null;
                            /** @enum {string} */
                            budget_period: "total" | "day" | "month";
                            budget_usd: number | null;
                            cache_ttl_seconds: number | null;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            id: string;
                            is_active: boolean;
                            max_concurrent: number | null;
                            max_requests: number | null;
                            name: string;
                            request_count: number;
                            requests_per_minute: number | null;
                            /** @description 5xx answers and upstream timeouts are retried without an Idempotency-Key (resilience.md) */
                            retry_server_errors: boolean;
                            tokens_per_minute: number | null;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            updated_at: string;
                            /** @description Lifetime usage, from the rollups */
                            usage: {
                                avg_duration_ms: number | null;
                                bytes_in: number;
                                bytes_out: number;
                                cached_tokens: number;
                                completion_tokens: number;
                                /** @description The same cost rounded to integer micro-dollars; kept for clients of earlier versions */
                                cost_micro_usd: number;
                                /** @description The same cost in integer nano-dollars (1e-9 USD): exact */
                                cost_nano_usd: number;
                                /** @description Exact decimal US dollars (nine decimals) of the priced requests */
                                cost_usd: string;
                                /** @description Requests answered with status >= 400 or ended by an error */
                                errors: number;
                                /** @description Requests with usage estimated by the proxy (stream cut short) */
                                estimated_requests: number;
                                prompt_tokens: number;
                                reasoning_tokens: number;
                                requests: number;
                                total_tokens: number;
                                /** @description Requests that used a model without a price: their cost is unknown, not counted (failed requests without usage and /v1/models are not unpriced) */
                                unpriced_requests: number;
                            };
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /**
         * Delete a project and its tokens
         * @description Needs the role `admin` or a stronger one.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description No content */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /**
         * Update a project
         * @description Needs the role `admin` or a stronger one.
         */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Endpoint rules such as "POST /v1/chat/*" or "/v1/embeddings"; null allows all */
                        allowed_endpoints?: string[] | null;
                        /** @description Model globs such as "gpt-4o*"; null allows all */
                        allowed_models?: string[] | null;
                        /** @description New upstream API key (same rules as on create) */
                        api_key?: string;
                        base_url?: string | null;
                        /**
                         * @description Budget window: lifetime, UTC day or UTC month (default total)
                         * @enum {string}
                         */
                        budget_period?: "total" | "day" | "month";
                        /** @description Spending cap in US dollars (up to nine decimals, at most 9,000,000); null for none */
                        budget_usd?: number | null;
                        /** @description Seconds the response cache keeps the project's answers to cacheable requests (capped by CACHE_MAX_TTL_SECONDS); null: not cached unless a request asks with Cache-Control: max-age */
                        cache_ttl_seconds?: number | null;
                        is_active?: boolean;
                        /** @description Requests in flight at once (streams included); one more gets 429 concurrency_limit_exceeded; null for none */
                        max_concurrent?: number | null;
                        /** @description Lifetime request cap; null for none */
                        max_requests?: number | null;
                        name?: string;
                        /** @description Requests per minute (GCRA: bursts up to the limit); null for none */
                        requests_per_minute?: number | null;
                        /** @description Retry a 5xx answer or an upstream timeout (the upstream may have run the request) on another key, or after a backoff, even without an Idempotency-Key; default false. 429s and failed connections are retried regardless */
                        retry_server_errors?: boolean;
                        /** @description Also revoke every token of the project */
                        revoke_tokens?: boolean;
                        /** @description Tokens per minute, reserved from the request and settled on actual usage; null for none */
                        tokens_per_minute?: number | null;
                    };
                };
            };
            responses: {
                /** @description Project */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            allowed_endpoints: string[] | null;
                            allowed_models: string[] | null;
                            /** @description Masked upstream key, e.g. sk-…abcd; the key itself is never returned */
                            api_key_hint: string;
                            base_url: string | null;
                            /** @enum {string} */
                            budget_period: "total" | "day" | "month";
                            budget_usd: number | null;
                            cache_ttl_seconds: number | null;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            id: string;
                            is_active: boolean;
                            max_concurrent: number | null;
                            max_requests: number | null;
                            name: string;
                            request_count: number;
                            requests_per_minute: number | null;
                            /** @description 5xx answers and upstream timeouts are retried without an Idempotency-Key (resilience.md) */
                            retry_server_errors: boolean;
                            tokens_per_minute: number | null;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            updated_at: string;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        trace?: never;
    };
    "/manage/projects/{id}/cache": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Purge a project's cached responses
         * @description Removes every response the cache holds for the project (memory: this instance; Redis: every instance). Audited as project.cache_purged.
         *
         *     Needs the role `admin` or a stronger one.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Cache purge */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Entries removed */
                            purged: number;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/projects/{id}/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List a project's upstream keys
         * @description Needs the role `viewer` or a stronger one.
         */
        get: {
            parameters: {
                query?: {
                    /** @description next_cursor of the previous page */
                    cursor?: string;
                    limit?: number;
                };
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                /** @description Masked upstream key, e.g. sk-…abcd; the key itself is never returned */
                                api_key_hint: string;
                                /** @enum {string} */
                                auth_style: "bearer" | "api-key";
                                /** @description Upstream base URL; null: the project's, else the proxy's default */
                                base_url: string | null;
                                /** @description Where the key is out of service after failures, as this instance sees it; empty when healthy */
                                cooldowns: {
                                    /** @description The model it cools for; null: every model */
                                    model: string | null;
                                    /**
                                     * @description cooling: skipped until `until`; half_open: the next request is its trial
                                     * @enum {string}
                                     */
                                    state: "cooling" | "half_open";
                                    /**
                                     * Format: date-time
                                     * @description RFC 3339 timestamp
                                     */
                                    until: string;
                                }[];
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                created_at: string;
                                enabled: boolean;
                                /** @description HTTP/2 is offered to the key's upstream (HTTP/1.1 where the server does not take it) */
                                http2: boolean;
                                id: string;
                                name: string;
                                project_id: string;
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                updated_at: string;
                                weight: number;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        /**
         * Add an upstream key to a project
         * @description Needs the role `admin` or a stronger one.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Real upstream API key; stored encrypted, never returned. Visible ASCII or Latin-1 characters, no surrounding spaces */
                        api_key: string;
                        /**
                         * @description How the key is sent: bearer (Authorization: Bearer <key>, the default) or api-key (api-key: <key>, Azure)
                         * @enum {string}
                         */
                        auth_style?: "bearer" | "api-key";
                        /** @description Upstream base URL for this key (OpenAI, Azure OpenAI's v1 endpoint, any OpenAI-compatible server); null or absent: the project's base_url, else the proxy's default */
                        base_url?: string | null;
                        /** @description Disabled keys are kept but not used (default true) */
                        enabled?: boolean;
                        /** @description Offer HTTP/2 to the key's upstream over TLS (default false); HTTP/1.1 where its server does not offer h2 */
                        http2?: boolean;
                        /** @description Unique within the project */
                        name: string;
                        /** @description Share of requests relative to the project's other enabled keys (1 to 1000, default 1) */
                        weight?: number;
                    };
                };
            };
            responses: {
                /** @description Upstream key of a project */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Masked upstream key, e.g. sk-…abcd; the key itself is never returned */
                            api_key_hint: string;
                            /** @enum {string} */
                            auth_style: "bearer" | "api-key";
                            /** @description Upstream base URL; null: the project's, else the proxy's default */
                            base_url: string | null;
                            /** @description Where the key is out of service after failures, as this instance sees it; empty when healthy */
                            cooldowns: {
                                /** @description The model it cools for; null: every model */
                                model: string | null;
                                /**
                                 * @description cooling: skipped until `until`; half_open: the next request is its trial
                                 * @enum {string}
                                 */
                                state: "cooling" | "half_open";
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                until: string;
                            }[];
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            enabled: boolean;
                            /** @description HTTP/2 is offered to the key's upstream (HTTP/1.1 where the server does not take it) */
                            http2: boolean;
                            id: string;
                            name: string;
                            project_id: string;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            updated_at: string;
                            weight: number;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/projects/{id}/keys/{key_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove an upstream key
         * @description Needs the role `admin` or a stronger one.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: string;
                    /** @description Key id */
                    key_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description No content */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /**
         * Update, rotate, enable or disable an upstream key
         * @description Needs the role `admin` or a stronger one.
         */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Project id */
                    id: string;
                    /** @description Key id */
                    key_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description New upstream API key (rotation; same rules as on create) */
                        api_key?: string;
                        /**
                         * @description How the key is sent: bearer (Authorization: Bearer <key>, the default) or api-key (api-key: <key>, Azure)
                         * @enum {string}
                         */
                        auth_style?: "bearer" | "api-key";
                        /** @description Upstream base URL for this key (OpenAI, Azure OpenAI's v1 endpoint, any OpenAI-compatible server); null or absent: the project's base_url, else the proxy's default */
                        base_url?: string | null;
                        /** @description Disabled keys are kept but not used (default true) */
                        enabled?: boolean;
                        /** @description Offer HTTP/2 to the key's upstream over TLS (default false); HTTP/1.1 where its server does not offer h2 */
                        http2?: boolean;
                        name?: string;
                        /** @description Share of requests relative to the project's other enabled keys (1 to 1000, default 1) */
                        weight?: number;
                    };
                };
            };
            responses: {
                /** @description Upstream key of a project */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Masked upstream key, e.g. sk-…abcd; the key itself is never returned */
                            api_key_hint: string;
                            /** @enum {string} */
                            auth_style: "bearer" | "api-key";
                            /** @description Upstream base URL; null: the project's, else the proxy's default */
                            base_url: string | null;
                            /** @description Where the key is out of service after failures, as this instance sees it; empty when healthy */
                            cooldowns: {
                                /** @description The model it cools for; null: every model */
                                model: string | null;
                                /**
                                 * @description cooling: skipped until `until`; half_open: the next request is its trial
                                 * @enum {string}
                                 */
                                state: "cooling" | "half_open";
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                until: string;
                            }[];
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            enabled: boolean;
                            /** @description HTTP/2 is offered to the key's upstream (HTTP/1.1 where the server does not take it) */
                            http2: boolean;
                            id: string;
                            name: string;
                            project_id: string;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            updated_at: string;
                            weight: number;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        trace?: never;
    };
    "/manage/projects/{id}/tokens/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Revoke all of a project's tokens
         * @description Needs the role `operator` or a stronger one.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            revoked: number;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/session": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The signed-in session (its user, role, CSRF token and expiry)
         * @description Needs a session cookie.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The signed-in session */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            auth_method: "token" | "password" | "oidc";
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            /** @description Send as x-csrf-token on every POST, PUT, PATCH and DELETE made with the session cookie */
                            csrf_token: string;
                            /**
                             * Format: date-time
                             * @description Absolute expiry (ADMIN_SESSION_MAX_HOURS after sign-in)
                             */
                            expires_at: string;
                            /**
                             * Format: date-time
                             * @description When the session ends unless used (ADMIN_SESSION_IDLE_MINUTES)
                             */
                            idle_expires_at: string;
                            /** @description Public id of the session (not the cookie) */
                            session_id: string;
                            user: {
                                /** @description An admin user id, `management-token`, or `oidc:<subject>` */
                                id: string;
                                /**
                                 * @description viewer < operator < admin
                                 * @enum {string}
                                 */
                                role: "viewer" | "operator" | "admin";
                                username: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        /**
         * Sign in with the management token or a username and password
         * @description Sets the `llmp_session` cookie (HttpOnly, SameSite=Strict, Path=/manage, Max-Age until the session's absolute expiry, Secure under TLS). Failed attempts are audited and limited per client address and per username (ADMIN_SIGN_IN_ATTEMPTS_PER_MINUTE).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description Either the management token, or a username and password */
            requestBody: {
                content: {
                    "application/json": {
                        /** @description The management token */
                        token: string;
                    } | {
                        password: string;
                        username: string;
                    };
                };
            };
            responses: {
                /** @description The signed-in session */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            auth_method: "token" | "password" | "oidc";
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            /** @description Send as x-csrf-token on every POST, PUT, PATCH and DELETE made with the session cookie */
                            csrf_token: string;
                            /**
                             * Format: date-time
                             * @description Absolute expiry (ADMIN_SESSION_MAX_HOURS after sign-in)
                             */
                            expires_at: string;
                            /**
                             * Format: date-time
                             * @description When the session ends unless used (ADMIN_SESSION_IDLE_MINUTES)
                             */
                            idle_expires_at: string;
                            /** @description Public id of the session (not the cookie) */
                            session_id: string;
                            user: {
                                /** @description An admin user id, `management-token`, or `oidc:<subject>` */
                                id: string;
                                /**
                                 * @description viewer < operator < admin
                                 * @enum {string}
                                 */
                                role: "viewer" | "operator" | "admin";
                                username: string;
                            };
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        /**
         * Sign out: ends the session on the server and clears the cookie
         * @description Needs a session cookie.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description No content */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List active sessions
         * @description Needs the role `admin` or a stronger one.
         */
        get: {
            parameters: {
                query?: {
                    /** @description next_cursor of the previous page */
                    cursor?: string;
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                /** @enum {string} */
                                auth_method: "token" | "password" | "oidc";
                                client_ip: string | null;
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                created_at: string;
                                /** @description The caller's own session */
                                current: boolean;
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                expires_at: string;
                                id: string;
                                /** @description The cookie value's last 4 characters */
                                id_hint: string;
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                idle_expires_at: string;
                                /**
                                 * Format: date-time
                                 * @description Updated at most once a minute
                                 */
                                last_seen_at: string;
                                user: {
                                    /** @description An admin user id, `management-token`, or `oidc:<subject>` */
                                    id: string;
                                    /**
                                     * @description viewer < operator < admin
                                     * @enum {string}
                                     */
                                    role: "viewer" | "operator" | "admin";
                                    username: string;
                                };
                                user_agent: string | null;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * End a session (its cookie stops working on every instance)
         * @description Needs the role `admin` or a stronger one.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description No content */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List tokens
         * @description Filters combine (AND). Sorted by `sort` then id; the cursor carries the sort key, so pass it back with the same `sort` and `order`.
         *
         *     Needs the role `viewer` or a stronger one.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Filter on is_active */
                    active?: "true" | "false";
                    /** @description next_cursor of the previous page (with the same sort and order) */
                    cursor?: string;
                    /** @description Only tokens expiring before this time (RFC 3339 or epoch ms), e.g. now + 7 days for "expiring soon" */
                    expires_before?: string;
                    limit?: number;
                    /** @description Names containing this text, ignoring case */
                    name?: string;
                    order?: "asc" | "desc";
                    project_id?: string;
                    /** @description created (the default, creation order), name, expires_at (no expiry last), last_used_at (never used first), request_count */
                    sort?: "created" | "name" | "expires_at" | "last_used_at" | "request_count";
                    /** @description Only tokens with this status now */
                    status?: "active" | "expired" | "revoked" | "exhausted";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                allowed_endpoints: string[] | null;
                                allowed_models: string[] | null;
                                /** @enum {string} */
                                budget_period: "total" | "day" | "month";
                                budget_usd: number | null;
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                created_at: string;
                                expires_at: string | null;
                                id: string;
                                is_active: boolean;
                                last_used_at: string | null;
                                max_concurrent: number | null;
                                max_requests: number | null;
                                name: string | null;
                                project_id: string;
                                request_count: number;
                                requests_per_minute: number | null;
                                revoked_at: string | null;
                                /** @enum {string} */
                                status: "active" | "expired" | "revoked" | "exhausted";
                                /** @description Masked token, e.g. sk-llmp-…abcd */
                                token_hint: string;
                                tokens_per_minute: number | null;
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                updated_at: string;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        /**
         * Issue a token (the plaintext is returned only here)
         * @description Needs the role `operator` or a stronger one.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Endpoint rules such as "POST /v1/chat/*" or "/v1/embeddings"; null allows all */
                        allowed_endpoints?: string[] | null;
                        /** @description Model globs such as "gpt-4o*"; null allows all */
                        allowed_models?: string[] | null;
                        /**
                         * @description Budget window: lifetime, UTC day or UTC month (default total)
                         * @enum {string}
                         */
                        budget_period?: "total" | "day" | "month";
                        /** @description Spending cap in US dollars (up to nine decimals, at most 9,000,000); null for none */
                        budget_usd?: number | null;
                        /** @description Lifetime from now, in minutes */
                        duration_minutes?: number;
                        /**
                         * Format: date-time
                         * @description Absolute expiry; omit both this and duration_minutes for no expiry
                         */
                        expires_at?: string;
                        /** @description Requests in flight at once (streams included); one more gets 429 concurrency_limit_exceeded; null for none */
                        max_concurrent?: number | null;
                        /** @description Lifetime request cap; null for none */
                        max_requests?: number | null;
                        name?: string | null;
                        project_id: string;
                        /** @description Requests per minute (GCRA: bursts up to the limit); null for none */
                        requests_per_minute?: number | null;
                        /** @description Tokens per minute, reserved from the request and settled on actual usage; null for none */
                        tokens_per_minute?: number | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            allowed_endpoints: string[] | null;
                            allowed_models: string[] | null;
                            /** @enum {string} */
                            budget_period: "total" | "day" | "month";
                            budget_usd: number | null;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            expires_at: string | null;
                            id: string;
                            is_active: boolean;
                            last_used_at: string | null;
                            max_concurrent: number | null;
                            max_requests: number | null;
                            name: string | null;
                            project_id: string;
                            request_count: number;
                            requests_per_minute: number | null;
                            revoked_at: string | null;
                            /** @enum {string} */
                            status: "active" | "expired" | "revoked" | "exhausted";
                            /** @description The plaintext token. Shown only in this response: store it now. */
                            token: string;
                            /** @description Masked token, e.g. sk-llmp-…abcd */
                            token_hint: string;
                            tokens_per_minute: number | null;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            updated_at: string;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/tokens/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a token, with its lifetime usage
         * @description Needs the role `viewer` or a stronger one.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Token with usage */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            allowed_endpoints: string[] | null;
                            allowed_models: string[] | null;
                            /** @enum {string} */
                            budget_period: "total" | "day" | "month";
                            budget_usd: number | null;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            expires_at: string | null;
                            id: string;
                            is_active: boolean;
                            last_used_at: string | null;
                            max_concurrent: number | null;
                            max_requests: number | null;
                            name: string | null;
                            project_id: string;
                            request_count: number;
                            requests_per_minute: number | null;
                            revoked_at: string | null;
                            /** @enum {string} */
                            status: "active" | "expired" | "revoked" | "exhausted";
                            /** @description Masked token, e.g. sk-llmp-…abcd */
                            token_hint: string;
                            tokens_per_minute: number | null;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            updated_at: string;
                            /** @description Lifetime usage, from the rollups */
                            usage: {
                                avg_duration_ms: number | null;
                                bytes_in: number;
                                bytes_out: number;
                                cached_tokens: number;
                                completion_tokens: number;
                                /** @description The same cost rounded to integer micro-dollars; kept for clients of earlier versions */
                                cost_micro_usd: number;
                                /** @description The same cost in integer nano-dollars (1e-9 USD): exact */
                                cost_nano_usd: number;
                                /** @description Exact decimal US dollars (nine decimals) of the priced requests */
                                cost_usd: string;
                                /** @description Requests answered with status >= 400 or ended by an error */
                                errors: number;
                                /** @description Requests with usage estimated by the proxy (stream cut short) */
                                estimated_requests: number;
                                prompt_tokens: number;
                                reasoning_tokens: number;
                                requests: number;
                                total_tokens: number;
                                /** @description Requests that used a model without a price: their cost is unknown, not counted (failed requests without usage and /v1/models are not unpriced) */
                                unpriced_requests: number;
                            };
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /**
         * Revoke a token
         * @description Needs the role `operator` or a stronger one.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description No content */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /**
         * Update a token
         * @description Needs the role `operator` or a stronger one.
         */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Endpoint rules such as "POST /v1/chat/*" or "/v1/embeddings"; null allows all */
                        allowed_endpoints?: string[] | null;
                        /** @description Model globs such as "gpt-4o*"; null allows all */
                        allowed_models?: string[] | null;
                        /**
                         * @description Budget window: lifetime, UTC day or UTC month (default total)
                         * @enum {string}
                         */
                        budget_period?: "total" | "day" | "month";
                        /** @description Spending cap in US dollars (up to nine decimals, at most 9,000,000); null for none */
                        budget_usd?: number | null;
                        /** @description New lifetime from now */
                        duration_minutes?: number;
                        /** @description New absolute expiry; null for no expiry */
                        expires_at?: string | null;
                        is_active?: boolean;
                        /** @description Requests in flight at once (streams included); one more gets 429 concurrency_limit_exceeded; null for none */
                        max_concurrent?: number | null;
                        /** @description Lifetime request cap; null for none */
                        max_requests?: number | null;
                        name?: string | null;
                        /** @description Requests per minute (GCRA: bursts up to the limit); null for none */
                        requests_per_minute?: number | null;
                        /** @description Tokens per minute, reserved from the request and settled on actual usage; null for none */
                        tokens_per_minute?: number | null;
                    };
                };
            };
            responses: {
                /** @description Token */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            allowed_endpoints: string[] | null;
                            allowed_models: string[] | null;
                            /** @enum {string} */
                            budget_period: "total" | "day" | "month";
                            budget_usd: number | null;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            expires_at: string | null;
                            id: string;
                            is_active: boolean;
                            last_used_at: string | null;
                            max_concurrent: number | null;
                            max_requests: number | null;
                            name: string | null;
                            project_id: string;
                            request_count: number;
                            requests_per_minute: number | null;
                            revoked_at: string | null;
                            /** @enum {string} */
                            status: "active" | "expired" | "revoked" | "exhausted";
                            /** @description Masked token, e.g. sk-llmp-…abcd */
                            token_hint: string;
                            tokens_per_minute: number | null;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            updated_at: string;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        trace?: never;
    };
    "/manage/tokens/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Issue many tokens with the same settings in one transaction (plaintexts returned only here)
         * @description Needs the role `operator` or a stronger one.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Endpoint rules such as "POST /v1/chat/*" or "/v1/embeddings"; null allows all */
                        allowed_endpoints?: string[] | null;
                        /** @description Model globs such as "gpt-4o*"; null allows all */
                        allowed_models?: string[] | null;
                        /**
                         * @description Budget window: lifetime, UTC day or UTC month (default total)
                         * @enum {string}
                         */
                        budget_period?: "total" | "day" | "month";
                        /** @description Spending cap in US dollars (up to nine decimals, at most 9,000,000); null for none */
                        budget_usd?: number | null;
                        /** @description How many tokens to issue (1-1000) */
                        count: number;
                        /** @description Lifetime from now, in minutes */
                        duration_minutes?: number;
                        /**
                         * Format: date-time
                         * @description RFC 3339 timestamp
                         */
                        expires_at?: string;
                        /** @description Requests in flight at once (streams included); one more gets 429 concurrency_limit_exceeded; null for none */
                        max_concurrent?: number | null;
                        /** @description Lifetime request cap; null for none */
                        max_requests?: number | null;
                        /** @description Names become <prefix>-1, <prefix>-2, …, zero-padded to the width of count (<prefix>-01 … <prefix>-20 for 20); without it the tokens have no name */
                        name_prefix?: string;
                        project_id: string;
                        /** @description Requests per minute (GCRA: bursts up to the limit); null for none */
                        requests_per_minute?: number | null;
                        /** @description Tokens per minute, reserved from the request and settled on actual usage; null for none */
                        tokens_per_minute?: number | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                allowed_endpoints: string[] | null;
                                allowed_models: string[] | null;
                                /** @enum {string} */
                                budget_period: "total" | "day" | "month";
                                budget_usd: number | null;
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                created_at: string;
                                expires_at: string | null;
                                id: string;
                                is_active: boolean;
                                last_used_at: string | null;
                                max_concurrent: number | null;
                                max_requests: number | null;
                                name: string | null;
                                project_id: string;
                                request_count: number;
                                requests_per_minute: number | null;
                                revoked_at: string | null;
                                /** @enum {string} */
                                status: "active" | "expired" | "revoked" | "exhausted";
                                /** @description The plaintext token. Shown only in this response: store it now. */
                                token: string;
                                /** @description Masked token, e.g. sk-llmp-…abcd */
                                token_hint: string;
                                tokens_per_minute: number | null;
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                updated_at: string;
                            }[];
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/tokens/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Revoke the active tokens matching a filter (every given condition must hold)
         * @description Needs the role `operator` or a stronger one.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @description Only tokens past their expiry
                         * @enum {boolean}
                         */
                        expired?: true;
                        ids?: string[];
                        /** @description Names starting with this (case-sensitive) */
                        name_prefix?: string;
                        project_id?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            revoked: number;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Usage statistics
         * @description Sums and latency percentiles from the hourly rollups, optionally grouped. `from` rounds down and `to` rounds up to whole hours. CSV (one row per group) with `Accept: text/csv` or `format=csv`. With `job_id`, one batch's or background response's usage, summed from its records.
         *
         *     Needs the role `viewer` or a stronger one.
         */
        get: {
            parameters: {
                query?: {
                    /** @description csv: same as Accept: text/csv */
                    format?: "json" | "csv";
                    /** @description Start, RFC 3339 or epoch ms; rounded down to the hour (rollups are hourly) */
                    from?: string;
                    /** @description day = UTC days */
                    group_by?: "hour" | "day" | "model" | "token" | "project";
                    /** @description Only this batch's or background response's records, summed from the records (group_by: model or none; no latency percentiles) */
                    job_id?: string;
                    /** @description With group_by=model, token or project: only the first N groups (top N by cost); totals cover all */
                    limit?: number;
                    /** @description Exact model name as recorded; empty for requests without one */
                    model?: string;
                    project_id?: string;
                    /** @description End (exclusive), RFC 3339 or epoch ms; rounded up to the hour */
                    to?: string;
                    token_id?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description UsageReport */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                avg_duration_ms: number | null;
                                bytes_in: number;
                                bytes_out: number;
                                cached_tokens: number;
                                completion_tokens: number;
                                /** @description The same cost rounded to integer micro-dollars; kept for clients of earlier versions */
                                cost_micro_usd: number;
                                /** @description The same cost in integer nano-dollars (1e-9 USD): exact */
                                cost_nano_usd: number;
                                /** @description Exact decimal US dollars (nine decimals) of the priced requests */
                                cost_usd: string;
                                /** @description group_by=day: UTC date, YYYY-MM-DD */
                                day?: string;
                                /** @description Requests answered with status >= 400 or ended by an error */
                                errors: number;
                                /** @description Requests with usage estimated by the proxy (stream cut short) */
                                estimated_requests: number;
                                /**
                                 * Format: date-time
                                 * @description group_by=hour: start of the hour
                                 */
                                hour?: string;
                                /** @description Latency percentiles in ms: upper bound of the histogram bucket each falls in */
                                latency_ms: {
                                    p50: number | null;
                                    p90: number | null;
                                    p99: number | null;
                                };
                                /** @description group_by=model; null for requests without a model */
                                model?: string | null;
                                /** @description group_by=token or project */
                                project_id?: string;
                                project_name?: string | null;
                                prompt_tokens: number;
                                reasoning_tokens: number;
                                requests: number;
                                /** @description group_by=token */
                                token_id?: string;
                                token_name?: string | null;
                                total_tokens: number;
                                /** @description Requests that used a model without a price: their cost is unknown, not counted (failed requests without usage and /v1/models are not unpriced) */
                                unpriced_requests: number;
                            }[];
                            /** @description Start of the window covered (rounded down to the hour) */
                            from: string | null;
                            group_by: ("hour" | "day" | "model" | "token" | "project") | null;
                            /** @description Latency percentiles in ms: upper bound of the histogram bucket each falls in */
                            latency_ms: {
                                p50: number | null;
                                p90: number | null;
                                p99: number | null;
                            };
                            /** @description End of the window covered, exclusive (rounded up to the hour) */
                            to: string | null;
                            /** @description UsageTotals */
                            totals: {
                                avg_duration_ms: number | null;
                                bytes_in: number;
                                bytes_out: number;
                                cached_tokens: number;
                                completion_tokens: number;
                                /** @description The same cost rounded to integer micro-dollars; kept for clients of earlier versions */
                                cost_micro_usd: number;
                                /** @description The same cost in integer nano-dollars (1e-9 USD): exact */
                                cost_nano_usd: number;
                                /** @description Exact decimal US dollars (nine decimals) of the priced requests */
                                cost_usd: string;
                                /** @description Requests answered with status >= 400 or ended by an error */
                                errors: number;
                                /** @description Requests with usage estimated by the proxy (stream cut short) */
                                estimated_requests: number;
                                prompt_tokens: number;
                                reasoning_tokens: number;
                                requests: number;
                                total_tokens: number;
                                /** @description Requests that used a model without a price: their cost is unknown, not counted (failed requests without usage and /v1/models are not unpriced) */
                                unpriced_requests: number;
                            };
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/usage/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Usage overview of a window: series, totals, latency and top lists in one answer
         * @description What the admin dashboard shows: sums per hour or UTC day, the totals and latency percentiles, and the costliest projects, tokens and models, from three reads of the rollups however long the window.
         *
         *     Needs the role `viewer` or a stronger one.
         */
        get: {
            parameters: {
                query: {
                    /** @description Series resolution; default hour for windows up to 7 days, else day (UTC days) */
                    bucket?: "hour" | "day";
                    /** @description Start, RFC 3339 or epoch ms; rounded down to the hour */
                    from: string;
                    /** @description Only this project */
                    project_id?: string;
                    /** @description End (exclusive), RFC 3339 or epoch ms, rounded up to the hour; default now */
                    to?: string;
                    /** @description How many projects, tokens and models to rank */
                    top?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description UsageOverview */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            bucket: "hour" | "day";
                            /**
                             * Format: date-time
                             * @description Start of the window covered (rounded down to the hour)
                             */
                            from: string;
                            /** @description Latency percentiles in ms: upper bound of the histogram bucket each falls in */
                            latency_ms: {
                                p50: number | null;
                                p90: number | null;
                                p99: number | null;
                            };
                            /** @description Buckets with traffic, oldest first; buckets without traffic are absent */
                            series: {
                                avg_duration_ms: number | null;
                                bytes_in: number;
                                bytes_out: number;
                                cached_tokens: number;
                                completion_tokens: number;
                                /** @description The same cost rounded to integer micro-dollars; kept for clients of earlier versions */
                                cost_micro_usd: number;
                                /** @description The same cost in integer nano-dollars (1e-9 USD): exact */
                                cost_nano_usd: number;
                                /** @description Exact decimal US dollars (nine decimals) of the priced requests */
                                cost_usd: string;
                                /** @description Requests answered with status >= 400 or ended by an error */
                                errors: number;
                                /** @description Requests with usage estimated by the proxy (stream cut short) */
                                estimated_requests: number;
                                prompt_tokens: number;
                                reasoning_tokens: number;
                                requests: number;
                                /**
                                 * Format: date-time
                                 * @description Start of the hour or UTC day
                                 */
                                start: string;
                                total_tokens: number;
                                /** @description Requests that used a model without a price: their cost is unknown, not counted (failed requests without usage and /v1/models are not unpriced) */
                                unpriced_requests: number;
                            }[];
                            /**
                             * Format: date-time
                             * @description End of the window covered, exclusive (rounded up to the hour)
                             */
                            to: string;
                            top: {
                                models: {
                                    avg_duration_ms: number | null;
                                    bytes_in: number;
                                    bytes_out: number;
                                    cached_tokens: number;
                                    completion_tokens: number;
                                    /** @description The same cost rounded to integer micro-dollars; kept for clients of earlier versions */
                                    cost_micro_usd: number;
                                    /** @description The same cost in integer nano-dollars (1e-9 USD): exact */
                                    cost_nano_usd: number;
                                    /** @description Exact decimal US dollars (nine decimals) of the priced requests */
                                    cost_usd: string;
                                    /** @description Requests answered with status >= 400 or ended by an error */
                                    errors: number;
                                    /** @description Requests with usage estimated by the proxy (stream cut short) */
                                    estimated_requests: number;
                                    model: string | null;
                                    prompt_tokens: number;
                                    reasoning_tokens: number;
                                    requests: number;
                                    total_tokens: number;
                                    /** @description Requests that used a model without a price: their cost is unknown, not counted (failed requests without usage and /v1/models are not unpriced) */
                                    unpriced_requests: number;
                                }[];
                                projects: {
                                    avg_duration_ms: number | null;
                                    bytes_in: number;
                                    bytes_out: number;
                                    cached_tokens: number;
                                    completion_tokens: number;
                                    /** @description The same cost rounded to integer micro-dollars; kept for clients of earlier versions */
                                    cost_micro_usd: number;
                                    /** @description The same cost in integer nano-dollars (1e-9 USD): exact */
                                    cost_nano_usd: number;
                                    /** @description Exact decimal US dollars (nine decimals) of the priced requests */
                                    cost_usd: string;
                                    /** @description Requests answered with status >= 400 or ended by an error */
                                    errors: number;
                                    /** @description Requests with usage estimated by the proxy (stream cut short) */
                                    estimated_requests: number;
                                    project_id: string;
                                    project_name: string | null;
                                    prompt_tokens: number;
                                    reasoning_tokens: number;
                                    requests: number;
                                    total_tokens: number;
                                    /** @description Requests that used a model without a price: their cost is unknown, not counted (failed requests without usage and /v1/models are not unpriced) */
                                    unpriced_requests: number;
                                }[];
                                tokens: {
                                    avg_duration_ms: number | null;
                                    bytes_in: number;
                                    bytes_out: number;
                                    cached_tokens: number;
                                    completion_tokens: number;
                                    /** @description The same cost rounded to integer micro-dollars; kept for clients of earlier versions */
                                    cost_micro_usd: number;
                                    /** @description The same cost in integer nano-dollars (1e-9 USD): exact */
                                    cost_nano_usd: number;
                                    /** @description Exact decimal US dollars (nine decimals) of the priced requests */
                                    cost_usd: string;
                                    /** @description Requests answered with status >= 400 or ended by an error */
                                    errors: number;
                                    /** @description Requests with usage estimated by the proxy (stream cut short) */
                                    estimated_requests: number;
                                    project_id: string;
                                    project_name: string | null;
                                    prompt_tokens: number;
                                    reasoning_tokens: number;
                                    requests: number;
                                    token_id: string;
                                    token_name: string | null;
                                    total_tokens: number;
                                    /** @description Requests that used a model without a price: their cost is unknown, not counted (failed requests without usage and /v1/models are not unpriced) */
                                    unpriced_requests: number;
                                }[];
                            };
                            /** @description UsageTotals */
                            totals: {
                                avg_duration_ms: number | null;
                                bytes_in: number;
                                bytes_out: number;
                                cached_tokens: number;
                                completion_tokens: number;
                                /** @description The same cost rounded to integer micro-dollars; kept for clients of earlier versions */
                                cost_micro_usd: number;
                                /** @description The same cost in integer nano-dollars (1e-9 USD): exact */
                                cost_nano_usd: number;
                                /** @description Exact decimal US dollars (nine decimals) of the priced requests */
                                cost_usd: string;
                                /** @description Requests answered with status >= 400 or ended by an error */
                                errors: number;
                                /** @description Requests with usage estimated by the proxy (stream cut short) */
                                estimated_requests: number;
                                prompt_tokens: number;
                                reasoning_tokens: number;
                                requests: number;
                                total_tokens: number;
                                /** @description Requests that used a model without a price: their cost is unknown, not counted (failed requests without usage and /v1/models are not unpriced) */
                                unpriced_requests: number;
                            };
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/usage/records": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Usage records, newest first
         * @description What the proxy recorded, one record per request and one per line of a batch or finished background response (`job_id` set), filtered by token, project or job. Read from the records, so only what retention (USAGE_RETENTION_DAYS) kept.
         *
         *     Needs the role `viewer` or a stronger one.
         */
        get: {
            parameters: {
                query?: {
                    /** @description next_cursor of the previous page */
                    cursor?: string;
                    /** @description Only this batch's or background response's records */
                    job_id?: string;
                    /** @description request: only ordinary requests; job: only records of batches and background responses */
                    kind?: "request" | "job";
                    limit?: number;
                    project_id?: string;
                    token_id?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description UsageRecordsPage */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                /** @description What the request was billed by besides text tokens: images (with size and quality), seconds of audio, characters of speech, tool calls (web_search, file_search, code_interpreter) and audio and image tokens; null when none */
                                billed_units: {
                                    [key: string]: number | string;
                                } | null;
                                bytes_in: number;
                                bytes_out: number;
                                cached_tokens: number | null;
                                completion_tokens: number | null;
                                /** @description The same cost rounded to integer micro-dollars; kept for clients of earlier versions */
                                cost_micro_usd: number | null;
                                /** @description The same cost in integer nano-dollars (1e-9 USD) */
                                cost_nano_usd: number | null;
                                /** @description Exact decimal US dollars; null without a cost (no price for the model, or nothing used) */
                                cost_usd: string | null;
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                created_at: string;
                                duration_ms: number;
                                /** @description Why the exchange failed or was cut, as an error code */
                                error: string | null;
                                finish_reason: string | null;
                                /** @description The request id: the x-llm-proxy-request-id header of the proxied response */
                                id: string;
                                /** @description The batch (batch_…) or background response (resp_…) this record accounts for; null for an ordinary request */
                                job_id: string | null;
                                method: string;
                                model: string | null;
                                path: string;
                                project_id: string;
                                /** @description null when the project was deleted */
                                project_name: string | null;
                                prompt_tokens: number | null;
                                reasoning_tokens: number | null;
                                /** @description Times the request was sent upstream again after a failed attempt (another key, or a backoff); 0 when sent once */
                                retries: number;
                                /** @description Where the answer came from: null the upstream, cache the response cache, idempotent_replay the stored answer to an earlier request with the same Idempotency-Key */
                                served_from: ("cache" | "idempotent_replay") | null;
                                /** @description The service tier the upstream reported (default, flex, priority…); null when it reported none */
                                service_tier: string | null;
                                /** @description The client's status: the upstream's, the proxy's 502/504, or 499 */
                                status: number;
                                stream: boolean;
                                token_id: string;
                                /** @description null when unnamed or deleted */
                                token_name: string | null;
                                total_tokens: number | null;
                                ttfb_ms: number | null;
                                /** @description The project's upstream key the request was sent with (GET /manage/projects/{id}/keys); null when none was */
                                upstream_key_id: string | null;
                                upstream_ms: number | null;
                                /** @description The upstream's id of its answer, to find the request in the provider's logs: its x-request-id (apim-request-id from Azure OpenAI), or a realtime response's id; null when none came */
                                upstream_request_id: string | null;
                                /** @description reported, estimated, missing or unfinished */
                                usage_status: string;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/usage/records/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One request's usage record
         * @description What the proxy recorded for one request, by the request id it answered with (`x-llm-proxy-request-id`): token, model, status, token counts, cost and timings. 404 until the usage writer has written it (within about USAGE_FLUSH_INTERVAL_MS), or with `wait_ms` after waiting that long for it. Requests the proxy refused itself (401, 429 of its own limits) are never recorded.
         *
         *     Needs the role `viewer` or a stronger one.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Wait up to this long for a record not written yet (a request that just ended); 0 answers at once */
                    wait_ms?: number;
                };
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description UsageRecord */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description What the request was billed by besides text tokens: images (with size and quality), seconds of audio, characters of speech, tool calls (web_search, file_search, code_interpreter) and audio and image tokens; null when none */
                            billed_units: {
                                [key: string]: number | string;
                            } | null;
                            bytes_in: number;
                            bytes_out: number;
                            cached_tokens: number | null;
                            completion_tokens: number | null;
                            /** @description The same cost rounded to integer micro-dollars; kept for clients of earlier versions */
                            cost_micro_usd: number | null;
                            /** @description The same cost in integer nano-dollars (1e-9 USD) */
                            cost_nano_usd: number | null;
                            /** @description Exact decimal US dollars; null without a cost (no price for the model, or nothing used) */
                            cost_usd: string | null;
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            duration_ms: number;
                            /** @description Why the exchange failed or was cut, as an error code */
                            error: string | null;
                            finish_reason: string | null;
                            /** @description The request id: the x-llm-proxy-request-id header of the proxied response */
                            id: string;
                            /** @description The batch (batch_…) or background response (resp_…) this record accounts for; null for an ordinary request */
                            job_id: string | null;
                            method: string;
                            model: string | null;
                            path: string;
                            project_id: string;
                            /** @description null when the project was deleted */
                            project_name: string | null;
                            prompt_tokens: number | null;
                            reasoning_tokens: number | null;
                            /** @description Times the request was sent upstream again after a failed attempt (another key, or a backoff); 0 when sent once */
                            retries: number;
                            /** @description Where the answer came from: null the upstream, cache the response cache, idempotent_replay the stored answer to an earlier request with the same Idempotency-Key */
                            served_from: ("cache" | "idempotent_replay") | null;
                            /** @description The service tier the upstream reported (default, flex, priority…); null when it reported none */
                            service_tier: string | null;
                            /** @description The client's status: the upstream's, the proxy's 502/504, or 499 */
                            status: number;
                            stream: boolean;
                            token_id: string;
                            /** @description null when unnamed or deleted */
                            token_name: string | null;
                            total_tokens: number | null;
                            ttfb_ms: number | null;
                            /** @description The project's upstream key the request was sent with (GET /manage/projects/{id}/keys); null when none was */
                            upstream_key_id: string | null;
                            upstream_ms: number | null;
                            /** @description The upstream's id of its answer, to find the request in the provider's logs: its x-request-id (apim-request-id from Azure OpenAI), or a realtime response's id; null when none came */
                            upstream_request_id: string | null;
                            /** @description reported, estimated, missing or unfinished */
                            usage_status: string;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List admin users
         * @description Needs the role `admin` or a stronger one.
         */
        get: {
            parameters: {
                query?: {
                    /** @description next_cursor of the previous page */
                    cursor?: string;
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                created_at: string;
                                disabled: boolean;
                                id: string;
                                last_sign_in_at: string | null;
                                /**
                                 * @description viewer < operator < admin
                                 * @enum {string}
                                 */
                                role: "viewer" | "operator" | "admin";
                                /**
                                 * Format: date-time
                                 * @description RFC 3339 timestamp
                                 */
                                updated_at: string;
                                username: string;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        /**
         * Create an admin user
         * @description Needs the role `admin` or a stronger one.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        disabled?: boolean;
                        /** @description 12 to 1024 characters; stored as a scrypt hash, never returned */
                        password: string;
                        /**
                         * @description viewer < operator < admin
                         * @enum {string}
                         */
                        role: "viewer" | "operator" | "admin";
                        /** @description Lower-cased on the way in: letters, digits and . _ @ + -, up to 64 characters */
                        username: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            disabled: boolean;
                            id: string;
                            last_sign_in_at: string | null;
                            /**
                             * @description viewer < operator < admin
                             * @enum {string}
                             */
                            role: "viewer" | "operator" | "admin";
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            updated_at: string;
                            username: string;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manage/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get an admin user
         * @description Needs the role `admin` or a stronger one.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            disabled: boolean;
                            id: string;
                            last_sign_in_at: string | null;
                            /**
                             * @description viewer < operator < admin
                             * @enum {string}
                             */
                            role: "viewer" | "operator" | "admin";
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            updated_at: string;
                            username: string;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /**
         * Delete an admin user and end their sessions
         * @description Needs the role `admin` or a stronger one.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description No content */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /**
         * Update an admin user (a new role applies to their sessions at once)
         * @description A new password or `disabled: true` ends every session of the user.
         *
         *     Needs the role `admin` or a stronger one.
         */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Resource id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description true ends every session of the user */
                        disabled?: boolean;
                        /** @description A new password ends every session of the user */
                        password?: string;
                        /**
                         * @description viewer < operator < admin
                         * @enum {string}
                         */
                        role?: "viewer" | "operator" | "admin";
                        /** @description Lower-cased on the way in: letters, digits and . _ @ + -, up to 64 characters */
                        username?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            created_at: string;
                            disabled: boolean;
                            id: string;
                            last_sign_in_at: string | null;
                            /**
                             * @description viewer < operator < admin
                             * @enum {string}
                             */
                            role: "viewer" | "operator" | "admin";
                            /**
                             * Format: date-time
                             * @description RFC 3339 timestamp
                             */
                            updated_at: string;
                            username: string;
                        };
                    };
                };
                /** @description Error */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
                /** @description Error */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                param?: string | null;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: never;
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
