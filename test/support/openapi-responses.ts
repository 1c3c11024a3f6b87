// Checks answers against an OpenAPI document (the API's own, or a contract's): the document becomes
// a schema store, and each response schema is compiled by its JSON pointer so its
// `#/components/...` refs resolve in the document.
import { Ajv2020 } from 'ajv/dist/2020.js';

export type ResponseCheck = (method: string, template: string, status: number, body: unknown) => string[];

export function responseChecker(document: object): ResponseCheck {
  const ajv = new Ajv2020({ strict: false, validateFormats: false, validateSchema: false, allErrors: true });
  ajv.addSchema(document, 'openapi');
  const pointer = (...segments: string[]) => segments.map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
  /** The mismatches of `body` with the schema of `method template` answering `status` (none: []). */
  return (method, template, status, body) => {
    const validate = ajv.compile({
      $ref: `openapi#/${pointer('paths', template, method, 'responses', String(status), 'content', 'application/json', 'schema')}`,
    });
    return validate(body) ? [] : [`${method.toUpperCase()} ${template} ${status}: ${ajv.errorsText(validate.errors)}`];
  };
}

/** A checker for the API's own document, `/openapi.json`. */
export async function documentedResponses(apiUrl: string): Promise<ResponseCheck> {
  return responseChecker((await (await fetch(`${apiUrl}/openapi.json`)).json()) as object);
}
