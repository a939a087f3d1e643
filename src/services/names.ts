/** The Alipay APIs this gateway implements, by their Alipay names. */
export const OPENAPI_METHODS = [
  'koubei.member.data.oauth.query',
  'alipay.user.auth.zhimaper.inner.apply',
  'alipay.system.oauth.token',
] as const;

export const MAPI_SERVICES = ['sns.account.bind', 'sns.cancel.account.bind'] as const;
