import { describe, expect, it } from 'vitest';
import { isLoopbackHost, replyUrlProblem, replyUrlRulesFor } from '../../src/sources/reply-url.js';

describe('reply endpoints a webhook body may name', () => {
  const open = { allowLoopbackHttp: false };

  it('takes https anywhere when the source has no reply URL of its own', () => {
    expect(replyUrlProblem('https://helpdesk.example.com/earshot', open)).toBeNull();
    expect(replyUrlProblem('https://helpdesk.example.com:8443/x?y=1', open)).toBeNull();
  });

  it('refuses plain http, other schemes, credentials and garbage', () => {
    expect(replyUrlProblem('http://169.254.169.254/latest/meta-data', open)).toBe('must use https');
    expect(replyUrlProblem('http://10.0.0.5/', open)).toBe('must use https');
    expect(replyUrlProblem('file:///etc/passwd', open)).toBe('must use https');
    expect(replyUrlProblem('gopher://internal:70/', open)).toBe('must use https');
    expect(replyUrlProblem('https://user:pw@helpdesk.example.com/', open)).toBe('must not carry credentials');
    expect(replyUrlProblem('/relative', open)).toBe('is not an absolute URL');
  });

  it('takes http to loopback only when the source allows it', () => {
    expect(replyUrlProblem('http://127.0.0.1:9000/replies', open)).toContain('replyAllowLoopbackHttp');
    const dev = { allowLoopbackHttp: true };
    expect(replyUrlProblem('http://127.0.0.1:9000/replies', dev)).toBeNull();
    expect(replyUrlProblem('http://localhost:9000/replies', dev)).toBeNull();
    expect(replyUrlProblem('http://[::1]:9000/replies', dev)).toBeNull();
    expect(replyUrlProblem('http://192.168.1.2/replies', dev)).toBe('must use https');
    expect(replyUrlProblem('http://127.0.0.1.evil.example/replies', dev)).toBe('must use https');
  });

  it('keeps an override on the host of the source’s configured reply URL', () => {
    const source = { settings: { replyUrl: 'https://helpdesk.example.com/earshot' } };
    const rules = replyUrlRulesFor(source, true);
    expect(rules.requiredHost).toBe('helpdesk.example.com');
    expect(replyUrlProblem('https://helpdesk.example.com/tickets/7', rules)).toBeNull();
    expect(replyUrlProblem('https://HELPDESK.example.com/tickets/7', rules)).toBeNull();
    expect(replyUrlProblem('https://helpdesk.example.com.evil.net/', rules)).toContain('helpdesk.example.com');
    expect(replyUrlProblem('https://helpdesk.example.com:444/', rules)).toContain('helpdesk.example.com');
    // The configured URL itself is checked without the host rule.
    expect(replyUrlRulesFor(source, false).requiredHost).toBeNull();
  });

  it('knows loopback hosts', () => {
    expect(['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', 'app.localhost'].every(isLoopbackHost)).toBe(true);
    expect(['10.0.0.1', '0.0.0.0', 'example.com', '::ffff:10.0.0.1'].some(isLoopbackHost)).toBe(false);
  });
});
