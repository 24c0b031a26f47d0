import { describe, expect, it } from 'vitest';
import { findUnapprovedPromises, matchTemplate } from '../../src/triage/reply-suggestion.js';

describe('findUnapprovedPromises', () => {
  it.each([
    ['en', "Sorry Ana! We'll refund you by Friday."],
    ['en', 'Your replacement will be sent within 3 days.'],
    ['es', 'Lo sentimos, le reembolsaremos el importe.'],
    ['es', 'Tendrá su reembolso el lunes.'],
    ['es', 'Le llegará en 3 días.'],
    ['fr', 'Désolés, nous vous rembourserons rapidement.'],
    ['fr', 'Vous serez remboursé sous 5 jours.'],
    ['fr', 'Le colis arrivera lundi.'],
    ['de', 'Wir werden Ihnen den Betrag erstatten.'],
    ['de', 'Sie erhalten Ihr Geld innerhalb von 3 Tagen zurück.'],
    ['de', 'Das Paket kommt am Montag.'],
    ['pt', 'Vamos te reembolsar hoje mesmo.'],
    ['pt', 'Você receberá o seu reembolso amanhã.'],
    ['it', 'Ti rimborseremo al più presto.'],
    ['it', 'Il rimborso arriverà entro 5 giorni.'],
    ['nl', 'We zullen u terugbetalen.'],
    ['nl', 'U krijgt uw geld binnen 3 dagen terug.'],
    ['nl', 'Het pakket komt vrijdag.'],
  ])('catches a refund or date promise (%s): %s', (_language, reply) => {
    expect(findUnapprovedPromises(reply)).not.toEqual([]);
  });

  it.each([
    ['en', 'Sorry about this, Ana. Could you DM us your order number so we can look into it?'],
    ['es', 'Hola Ana, sentimos el retraso. ¿Nos envías el número de pedido por DM para revisarlo?'],
    ['fr', 'Bonjour, désolés pour ce souci. Pouvez-vous nous écrire en privé avec votre numéro de commande ?'],
    ['de', 'Guten Morgen! Das tut uns leid. Schicken Sie uns bitte Ihre Bestellnummer per DM, wir sehen nach.'],
    ['pt', 'Olá! Sentimos muito. Pode nos mandar o número do pedido por DM para verificarmos?'],
    ['it', 'Ciao, ci dispiace. Puoi mandarci il numero d’ordine in privato così controlliamo?'],
    ['nl', 'Hoi, sorry daarvoor. Stuur je ons je bestelnummer via DM? Dan zoeken we het uit.'],
  ])('lets a reply without promises through (%s)', (_language, reply) => {
    expect(findUnapprovedPromises(reply)).toEqual([]);
  });

  it('allows a promise the agent typed themselves', () => {
    expect(
      findUnapprovedPromises('Wir werden Ihnen den Betrag erstatten, am Montag.', 'erstatten am montag'),
    ).not.toEqual([]);
    expect(findUnapprovedPromises('Le reembolsaremos mañana.', 'le reembolsaremos mañana')).toEqual([]);
  });
});

describe('matchTemplate', () => {
  it('picks the template sharing most words, filling the name, and nothing when none overlaps', () => {
    const templates = [
      { id: 1, name: 'Delivery delay', body: 'Hi {{name}}, sorry your delivery is late.' },
      { id: 2, name: 'Thanks', body: 'Thanks {{name}}!' },
    ];
    expect(matchTemplate({ text: 'my delivery is late', customerName: 'Ana', templates })).toEqual({
      text: 'Hi Ana, sorry your delivery is late.',
      source: 'template',
      templateId: 1,
    });
    expect(matchTemplate({ text: 'zzz', templates })).toBeNull();
  });
});
