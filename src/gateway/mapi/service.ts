import type { GatewayContext } from '../../context.ts';
import type { Charset } from '../../crypto/charset.ts';
import type { Params } from '../../crypto/sign-content.ts';
import type { Partner } from '../../storage/repositories/partners.ts';
import type { ParamSpec } from './params.ts';
import type { MapiSignType } from './signing.ts';

/** A request whose envelope, signature, privilege and parameters have been checked. */
export interface MapiRequest {
  service: string;
  partner: Partner;
  charset: Charset;
  signType: MapiSignType;
  /** Decoded, as signed (`sign` included). */
  params: Params;
}

/** What a service answers; `code` is `T` or the error code, for the request log and metrics. */
export type MapiAnswer =
  | { kind: 'redirect'; location: string; code: string }
  | { kind: 'xml'; body: string; code: string }
  /** A person must log in and consent: the browser goes to the bind pages. */
  | { kind: 'bind_page'; bindRequestId: string; code: string };

/** A MAPI service is data (its parameter table) plus one function. */
export interface MapiService {
  name: string;
  params: readonly ParamSpec[];
  /** Whether the caller is a browser (errors as an HTML page) or a server (errors as XML). */
  answersBrowser(params: Params): boolean;
  handle(ctx: GatewayContext, req: MapiRequest): Promise<MapiAnswer>;
}
