/**
 * E-mail through the installation's SMTP server (LOAXA_SMTP_URL, `smtp://user:pass@host:587` or `smtps://…:465`;
 * LOAXA_SMTP_FROM the sender). nodemailer speaks SMTP with STARTTLS when the server offers it and logs in
 * with the URL's user and password. The URL is the administrator's, not a user's, so it is not address-checked.
 */
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export class Mailer {
  private readonly transport: Transporter;

  constructor(
    url: string,
    private readonly from: string,
    /** Tests' local SMTP server has a self-signed certificate; a real one is verified. */
    tlsRejectUnauthorized = true,
  ) {
    const u = new URL(url);
    const secure = u.protocol === 'smtps:';
    this.transport = nodemailer.createTransport({
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port ? Number(u.port) : secure ? 465 : 587,
      secure,
      ...(u.username ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } } : {}),
      tls: { rejectUnauthorized: tlsRejectUnauthorized },
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 30_000,
    });
  }

  async send(m: MailMessage): Promise<void> {
    await this.transport.sendMail({ from: this.from, to: m.to, subject: m.subject, text: m.text, html: m.html });
  }

  close(): void {
    this.transport.close();
  }
}
