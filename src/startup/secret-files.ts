import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { Keyring, parseKey } from '../crypto/keyring.js';
import { generateManagementToken } from '../crypto/secrets.js';
import { ConfigError } from '../errors.js';
import { makeDir } from '../shared/make-dir.js';

export const ENCRYPTION_KEY_FILE = 'encryption.key';
export const MANAGEMENT_TOKEN_FILE = 'management-token';

export interface Secrets {
  keyring: Keyring;
  /** Set when the key came from (or was just written to) a file in the data directory. */
  keyFile?: string;
  keyGenerated: boolean;
  managementToken: string;
  /** Set when the management token came from (or was just written to) the data directory. */
  tokenFile?: string;
  tokenGenerated: boolean;
}

/**
 * Resolves the encryption key and management token: from configuration when set, otherwise from
 * files in the data directory, generating them (mode 0600) on the first start.
 */
export function loadSecrets(config: Config): Secrets {
  makeDir(config.dataDir, 0o700);
  const previous = previousKeys(config);
  let keyring: Keyring;
  let keyFile: string | undefined;
  let keyGenerated = false;
  if (config.encryption.key) {
    keyring = new Keyring(parseConfigKey(config.encryption.key, 'ENCRYPTION_KEY'), previous);
  } else {
    keyFile = path.join(config.dataDir, ENCRYPTION_KEY_FILE);
    const existing = readSecretFile(keyFile);
    keyGenerated = existing === undefined;
    const text = existing ?? writeSecretFile(keyFile, randomBytes(32).toString('base64'));
    keyring = new Keyring(parseConfigKey(text, keyFile), previous);
  }

  let managementToken = config.managementToken;
  let tokenFile: string | undefined;
  let tokenGenerated = false;
  if (!managementToken) {
    tokenFile = path.join(config.dataDir, MANAGEMENT_TOKEN_FILE);
    const existing = readSecretFile(tokenFile);
    tokenGenerated = existing === undefined;
    managementToken = existing ?? writeSecretFile(tokenFile, generateManagementToken());
  }
  return {
    keyring,
    ...(keyFile ? { keyFile } : {}),
    keyGenerated,
    managementToken,
    ...(tokenFile ? { tokenFile } : {}),
    tokenGenerated,
  };
}

/**
 * The keyring as configured, for tools that only read (`audit verify`): from ENCRYPTION_KEY or the
 * key file, never generating one.
 */
export function readKeyring(config: Config): Keyring {
  if (config.encryption.key)
    return new Keyring(parseConfigKey(config.encryption.key, 'ENCRYPTION_KEY'), previousKeys(config));
  const file = path.join(config.dataDir, ENCRYPTION_KEY_FILE);
  const text = readSecretFile(file);
  if (text === undefined) {
    throw new ConfigError(`No encryption key: ENCRYPTION_KEY is not set and ${file} does not exist.`);
  }
  return new Keyring(parseConfigKey(text, file), previousKeys(config));
}

function previousKeys(config: Config): Buffer[] {
  return config.encryption.previous.map((k, i) => parseConfigKey(k, `ENCRYPTION_KEY_PREVIOUS[${i}]`));
}

function parseConfigKey(text: string, setting: string): Buffer {
  try {
    return parseKey(text, setting);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

function readSecretFile(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8').trim();
  if (!text) throw new ConfigError(`${file} is empty; delete it to generate a new one.`);
  return text;
}

function writeSecretFile(file: string, value: string): string {
  // 'wx' fails if another process created the file first: never overwrite a secret.
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return value;
}
