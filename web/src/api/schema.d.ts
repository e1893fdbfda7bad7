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
         * @description Management changes, failed management authentications and refused proxy requests (per token, reason and minute), with who, from where and what changed. Filters combine; `action` takes a prefix ending in `*`.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Exact action, or a prefix ending in * (token.*) */
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
    "/manage/pricing": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The effective pricing table (USD per 1M tokens) */
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
                                cached_input: number | null;
                                input: number;
                                model: string;
                                output: number;
                                reasoning: number | null;
                                /**
                                 * @description Shipped table, PRICING_FILE, or the API
                                 * @enum {string}
                                 */
                                source: "built_in" | "file" | "override";
                                /** @description When the override was set; null for file prices */
                                updated_at: string | null;
                            }[];
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
        /** Set a model's price (an override, applied to the next request) */
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
                        /** @description USD per 1M cached input tokens (default: input) */
                        cached_input?: number;
                        /** @description USD per 1M input tokens */
                        input: number;
                        /** @description USD per 1M output tokens */
                        output: number;
                        /** @description USD per 1M reasoning tokens, where priced apart from output */
                        reasoning?: number;
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
                            cached_input: number | null;
                            input: number;
                            model: string;
                            output: number;
                            reasoning: number | null;
                            /**
                             * @description Shipped table, PRICING_FILE, or the API
                             * @enum {string}
                             */
                            source: "built_in" | "file" | "override";
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
        /** Remove a model's override (back to the pricing files) */
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
        /** List projects */
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
        /** Create a project */
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
                        /** @description Spending cap in US dollars; null for none */
                        budget_usd?: number | null;
                        is_active?: boolean;
                        /** @description Requests in flight at once (streams included); one more gets 429 concurrency_limit_exceeded; null for none */
                        max_concurrent?: number | null;
                        /** @description Lifetime request cap; null for none */
                        max_requests?: number | null;
                        name: string;
                        /** @description Requests per minute (GCRA: bursts up to the limit); null for none */
                        requests_per_minute?: number | null;
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
        /** Get a project, with its lifetime usage */
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
                                /** @description The same cost in integer micro-dollars */
                                cost_micro_usd: number;
                                /** @description Exact decimal US dollars (six decimals) of the priced requests */
                                cost_usd: string;
                                /** @description Requests answered with status >= 400 or ended by an error */
                                errors: number;
                                /** @description Requests with usage estimated by the proxy (stream cut short) */
                                estimated_requests: number;
                                prompt_tokens: number;
                                reasoning_tokens: number;
                                requests: number;
                                total_tokens: number;
                                /** @description Requests without a cost (model has no price, or no usage reported): unknown, not counted */
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
        /** Delete a project and its tokens */
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
        /** Update a project */
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
                        /** @description Spending cap in US dollars; null for none */
                        budget_usd?: number | null;
                        is_active?: boolean;
                        /** @description Requests in flight at once (streams included); one more gets 429 concurrency_limit_exceeded; null for none */
                        max_concurrent?: number | null;
                        /** @description Lifetime request cap; null for none */
                        max_requests?: number | null;
                        name?: string;
                        /** @description Requests per minute (GCRA: bursts up to the limit); null for none */
                        requests_per_minute?: number | null;
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
    "/manage/projects/{id}/tokens/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Revoke all of a project's tokens */
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
        /** Issue a token (the plaintext is returned only here) */
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
                        /** @description Spending cap in US dollars; null for none */
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
        /** Get a token, with its lifetime usage */
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
                                /** @description The same cost in integer micro-dollars */
                                cost_micro_usd: number;
                                /** @description Exact decimal US dollars (six decimals) of the priced requests */
                                cost_usd: string;
                                /** @description Requests answered with status >= 400 or ended by an error */
                                errors: number;
                                /** @description Requests with usage estimated by the proxy (stream cut short) */
                                estimated_requests: number;
                                prompt_tokens: number;
                                reasoning_tokens: number;
                                requests: number;
                                total_tokens: number;
                                /** @description Requests without a cost (model has no price, or no usage reported): unknown, not counted */
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
        /** Revoke a token */
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
        /** Update a token */
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
                        /** @description Spending cap in US dollars; null for none */
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
        /** Issue many tokens with the same settings in one transaction (plaintexts returned only here) */
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
                        /** @description Spending cap in US dollars; null for none */
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
        /** Revoke the active tokens matching a filter (every given condition must hold) */
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
         * @description Sums and latency percentiles from the hourly rollups, optionally grouped. `from` rounds down and `to` rounds up to whole hours. CSV (one row per group) with `Accept: text/csv` or `format=csv`.
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
                                /** @description The same cost in integer micro-dollars */
                                cost_micro_usd: number;
                                /** @description Exact decimal US dollars (six decimals) of the priced requests */
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
                                /** @description Requests without a cost (model has no price, or no usage reported): unknown, not counted */
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
                                /** @description The same cost in integer micro-dollars */
                                cost_micro_usd: number;
                                /** @description Exact decimal US dollars (six decimals) of the priced requests */
                                cost_usd: string;
                                /** @description Requests answered with status >= 400 or ended by an error */
                                errors: number;
                                /** @description Requests with usage estimated by the proxy (stream cut short) */
                                estimated_requests: number;
                                prompt_tokens: number;
                                reasoning_tokens: number;
                                requests: number;
                                total_tokens: number;
                                /** @description Requests without a cost (model has no price, or no usage reported): unknown, not counted */
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
                                /** @description The same cost in integer micro-dollars */
                                cost_micro_usd: number;
                                /** @description Exact decimal US dollars (six decimals) of the priced requests */
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
                                /** @description Requests without a cost (model has no price, or no usage reported): unknown, not counted */
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
                                    /** @description The same cost in integer micro-dollars */
                                    cost_micro_usd: number;
                                    /** @description Exact decimal US dollars (six decimals) of the priced requests */
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
                                    /** @description Requests without a cost (model has no price, or no usage reported): unknown, not counted */
                                    unpriced_requests: number;
                                }[];
                                projects: {
                                    avg_duration_ms: number | null;
                                    bytes_in: number;
                                    bytes_out: number;
                                    cached_tokens: number;
                                    completion_tokens: number;
                                    /** @description The same cost in integer micro-dollars */
                                    cost_micro_usd: number;
                                    /** @description Exact decimal US dollars (six decimals) of the priced requests */
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
                                    /** @description Requests without a cost (model has no price, or no usage reported): unknown, not counted */
                                    unpriced_requests: number;
                                }[];
                                tokens: {
                                    avg_duration_ms: number | null;
                                    bytes_in: number;
                                    bytes_out: number;
                                    cached_tokens: number;
                                    completion_tokens: number;
                                    /** @description The same cost in integer micro-dollars */
                                    cost_micro_usd: number;
                                    /** @description Exact decimal US dollars (six decimals) of the priced requests */
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
                                    /** @description Requests without a cost (model has no price, or no usage reported): unknown, not counted */
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
                                /** @description The same cost in integer micro-dollars */
                                cost_micro_usd: number;
                                /** @description Exact decimal US dollars (six decimals) of the priced requests */
                                cost_usd: string;
                                /** @description Requests answered with status >= 400 or ended by an error */
                                errors: number;
                                /** @description Requests with usage estimated by the proxy (stream cut short) */
                                estimated_requests: number;
                                prompt_tokens: number;
                                reasoning_tokens: number;
                                requests: number;
                                total_tokens: number;
                                /** @description Requests without a cost (model has no price, or no usage reported): unknown, not counted */
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
