// The reference user data of lab host: user-data.yaml (next to this file) with its placeholders filled.
// Dependency-free (node: modules only): it runs inside the student sandbox.
//
//   "{{NAME}}"        (quoted, inside a line)  → the value as a YAML double-quoted string (JSON is valid YAML)
//   {{NAME}}          (alone on its line, in a block scalar "content: |") → the value's lines at that indentation
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export interface UserDataInput {
  /** The admins of the env (HostLabEnv.admins): user name and OpenSSH public key line. */
  admins: { user: string; publicKey: string }[];
  indexHtml: string;
  /** Leaf then intermediates/CA, PEM (nginx's ssl_certificate). */
  certChainPem: string;
  keyPem: string;
}

export const USER_DATA_TEMPLATE = fileURLToPath(new URL('./user-data.yaml', import.meta.url));

/** EC2 refuses user data over 16 KB. */
export const EC2_USER_DATA_LIMIT = 16 * 1024;

/** Fill a template's placeholders. Every placeholder must have a value and every value must be used. */
export function renderUserData(template: string, values: Record<string, string>): string {
  const used = new Set<string>();
  const value = (name: string): string => {
    const v = values[name];
    if (v === undefined) throw new Error(`user data: no value for {{${name}}}`);
    used.add(name);
    return v;
  };
  const out = template.split('\n').map((line) => {
    const block = /^(\s*)\{\{([A-Za-z0-9_]+)\}\}\s*$/.exec(line);
    if (block) {
      const [, indent, name] = block as unknown as [string, string, string];
      const lines = value(name).replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
      // A first line starting with a space would change the block scalar's detected indentation.
      if (/^\s/.test(lines[0] ?? '')) throw new Error(`user data: {{${name}}} starts with white space`);
      return lines.map((l) => (l === '' ? '' : indent + l)).join('\n');
    }
    return line.replace(/"\{\{([A-Za-z0-9_]+)\}\}"/g, (_m, name: string) => {
      const v = value(name);
      if (/[\r\n]/.test(v)) throw new Error(`user data: {{${name}}} must be one line`);
      return JSON.stringify(v);
    });
  });
  const left = out.join('\n').match(/\{\{[A-Za-z0-9_]+\}\}/);
  if (left) throw new Error(`user data: placeholder ${left[0]} not filled (quote it, or put it alone on its line in a block scalar)`);
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length) throw new Error(`user data: the template has no place for ${unused.map((k) => `{{${k}}}`).join(', ')}`);
  return out.join('\n');
}

/** The reference user data for these admins, home page, certificate chain and key. */
export function userData(input: UserDataInput, template = readFileSync(USER_DATA_TEMPLATE, 'utf8')): string {
  const values: Record<string, string> = { INDEX_HTML: input.indexHtml, CERT_CHAIN: input.certChainPem, PRIVATE_KEY: input.keyPem };
  for (const a of input.admins) {
    if (!/^[a-z_][a-z0-9_-]*$/.test(a.user)) throw new Error(`user data: bad user name ${JSON.stringify(a.user)}`);
    if (!/^(ssh-|ecdsa-|sk-)\S+ [A-Za-z0-9+/=]+( [^\r\n]*)?$/.test(a.publicKey.trim())) throw new Error(`user data: ${a.user}'s key is not an OpenSSH public key line`);
    values[`ADMIN_KEY_${a.user}`] = a.publicKey.trim();
  }
  return renderUserData(template, values);
}

/**
 * RunInstances' UserData (base64). Plain text when it fits EC2's 16 KB, else gzip-compressed (cloud-init and
 * the lab's host model both decompress it), e.g. with a longer certificate chain or a 4096-bit key.
 */
export function ec2UserData(input: UserDataInput): string {
  const text = Buffer.from(userData(input), 'utf8');
  const body = text.length <= EC2_USER_DATA_LIMIT ? text : gzipSync(text, { level: 9 });
  if (body.length > EC2_USER_DATA_LIMIT) throw new Error(`user data: ${body.length} bytes even compressed, over EC2's 16 KB limit`);
  return body.toString('base64');
}
