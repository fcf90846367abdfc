/**
 * Validator lab: class-validator DTOs against the hand-written validator (libs/payments), on the
 * same parsed RecordPaymentEvents requests.
 *
 *   node scripts/run-ts.mjs bench/support/validator-lab.ts [--bodies N] [--rounds R] [--verbose]
 *
 * The DTOs below check what `validateRecordRequest` checks, the way a NestJS app would write them,
 * and are run as ValidationPipe runs them (plainToInstance, then validate with whitelist and
 * forbidNonWhitelisted), and through ValidationPipe itself. JSON.parse is outside every timing.
 * Where the DTOs check less, the comparison favours class-validator: they take only the JSON field
 * names (not the proto names too), let impossible dates such as Feb 30 through (Date.parse rolls
 * them over), and neither spot a repeated eventId with a different body nor build the canonical
 * JSON, its SHA-256 and the bigint amounts that validateRecordRequest returns.
 * The evidence behind docs/decisions/0002; it changes nothing in the application.
 */
import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { Type, plainToInstance } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsNotEmpty,
  IsRFC3339,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  Validate,
  ValidateIf,
  ValidateNested,
  ValidatorConstraint,
  validate,
  type ValidationArguments,
  type ValidationError,
  type ValidatorConstraintInterface,
  type ValidatorOptions,
} from 'class-validator';
import { ACTIVE_CURRENCIES, validateRecordRequest } from '@app/payments';
import { numberFlag } from './args.js';
import { EventFactory } from './workload.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => numberFlag(args, name, fallback);
const BODIES = flag('--bodies', 20);
const ROUNDS = flag('--rounds', 7);
const VERBOSE = args.includes('--verbose');
const BATCH = 1000;
const MAX_FUTURE_SKEW_MS = 300_000; // the command API's default (OCCURRED_AT_MAX_SKEW_SECONDS=300)
const EARLIEST_MS = Date.UTC(2000, 0, 1);
const INT64_MAX = 9_223_372_036_854_775_807n;
const KINDS = ['paymentCompleted', 'paymentFailed', 'paymentRefunded'] as const;
// The budget from BENCHMARKS.md, "Where the time goes": CPU per stored event under bench:ingest.
const INGEST_CPU_US = 38.8;
const API_CPU_US = 16.1;

// Same rules as text-field.checks.ts: no control characters (NUL only, in a reason) and no lone surrogates.
const ID_TEXT = /^[^\u0000-\u001f\u007f\p{Cs}]*$/u;
const REASON_TEXT = /^[^\u0000\p{Cs}]*$/u;
const MERCHANT_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const METHODS = ['PAYMENT_METHOD_CARD', 'PAYMENT_METHOD_WALLET', 'PAYMENT_METHOD_QR', 'PAYMENT_METHOD_BANK_TRANSFER', 'PAYMENT_METHOD_POINTS'];

@ValidatorConstraint({ name: 'isPositiveInt64' })
class IsPositiveInt64 implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0;
    if (typeof value !== 'string' || !/^[0-9]+$/.test(value)) return false;
    const n = BigInt(value);
    return n > 0n && n <= INT64_MAX;
  }
  defaultMessage(): string {
    return '$property must be a positive int64 in decimal digits';
  }
}

@ValidatorConstraint({ name: 'occurredAtInWindow' })
class OccurredAtInWindow implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    const ms = Date.parse(value);
    return ms >= EARLIEST_MS && ms <= Date.now() + MAX_FUTURE_SKEW_MS;
  }
  defaultMessage(): string {
    return '$property must lie between 2000-01-01 and now plus the allowed clock skew';
  }
}

function kindsGiven(event: Record<string, unknown>): number {
  return KINDS.filter((kind) => event[kind] != null).length;
}

@ValidatorConstraint({ name: 'exactlyOneKind' })
class ExactlyOneKind implements ValidatorConstraintInterface {
  validate(_value: unknown, validation: ValidationArguments): boolean {
    return kindsGiven(validation.object as Record<string, unknown>) === 1;
  }
  defaultMessage(): string {
    return `must have exactly one of ${KINDS.join(', ')}`;
  }
}

class MoneyDto {
  @IsString() @IsIn([...ACTIVE_CURRENCIES]) currency!: string;
  @Validate(IsPositiveInt64) minorUnits!: string | number;
}

/** The fields every kind shares; each kind adds its own. */
class PaymentDto {
  @IsString() @IsNotEmpty() @MaxLength(128) @Matches(ID_TEXT) paymentId!: string;
  @IsString() @IsNotEmpty() @MaxLength(128) @Matches(ID_TEXT) storeId!: string;
  @IsIn([...METHODS, 1, 2, 3, 4, 5]) method!: string | number;
  @IsDefined() @ValidateNested() @Type(() => MoneyDto) amount!: MoneyDto;
}

class PaymentCompletedDto extends PaymentDto {
  @IsString() @IsNotEmpty() @MaxLength(128) @Matches(ID_TEXT) customerId!: string;
}

class PaymentFailedDto extends PaymentDto {
  @IsString() @IsNotEmpty() @MaxLength(128) @Matches(ID_TEXT) customerId!: string;
  @IsString() @IsNotEmpty() @MaxLength(256) @Matches(REASON_TEXT) reason!: string;
}

class PaymentRefundedDto extends PaymentDto {
  @IsString() @IsNotEmpty() @MaxLength(128) @Matches(ID_TEXT) refundId!: string;
}

class PaymentEventDto {
  @IsUUID('all') eventId!: string;
  @IsString() @Matches(MERCHANT_ID) merchantId!: string;
  @IsRFC3339() @Validate(OccurredAtInWindow) occurredAt!: string;

  // paymentCompleted also carries the "none given" error; a kind given alongside another fails ExactlyOneKind.
  @ValidateIf((e: PaymentEventDto) => e.paymentCompleted != null || kindsGiven(e as never) === 0)
  @Validate(ExactlyOneKind) @ValidateNested() @Type(() => PaymentCompletedDto)
  paymentCompleted?: PaymentCompletedDto;

  @ValidateIf((e: PaymentEventDto) => e.paymentFailed != null)
  @Validate(ExactlyOneKind) @ValidateNested() @Type(() => PaymentFailedDto)
  paymentFailed?: PaymentFailedDto;

  @ValidateIf((e: PaymentEventDto) => e.paymentRefunded != null)
  @Validate(ExactlyOneKind) @ValidateNested() @Type(() => PaymentRefundedDto)
  paymentRefunded?: PaymentRefundedDto;
}

class RecordRequestDto {
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(BATCH) @ValidateNested({ each: true }) @Type(() => PaymentEventDto)
  events!: PaymentEventDto[];
}

const VALIDATOR_OPTIONS: ValidatorOptions = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false };
const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });

type Check = (body: unknown) => Promise<boolean>;
const METHODS_UNDER_TEST: Array<{ name: string; accepts: Check }> = [
  {
    name: 'class-validator: plainToInstance + validate',
    accepts: async (body) => (await validate(plainToInstance(RecordRequestDto, body) as object, VALIDATOR_OPTIONS)).length === 0,
  },
  {
    name: 'class-validator: Nest ValidationPipe.transform',
    accepts: async (body) => {
      try {
        await pipe.transform(body, { type: 'body', metatype: RecordRequestDto });
        return true;
      } catch {
        return false;
      }
    },
  },
  {
    name: 'hand-written validateRecordRequest',
    accepts: async (body) => validateRecordRequest(body, { now: new Date(), maxFutureSkewMs: MAX_FUTURE_SKEW_MS }).ok,
  },
];

/** Single-event requests that every method must refuse, each broken in one way. */
function invalidRequests(template: Record<string, any>): Array<[string, unknown]> {
  const variant = (change: (e: Record<string, any>) => void): unknown => {
    const event = structuredClone(template);
    change(event);
    return JSON.parse(JSON.stringify({ events: [event] })) as unknown;
  };
  const body = (e: Record<string, any>) => e.paymentCompleted;
  return [
    ['no events', { events: [] }],
    ['non-UUID eventId', variant((e) => (e.eventId = 'not-a-uuid'))],
    ['merchantId with a space', variant((e) => (e.merchantId = 'm 1'))],
    ['occurredAt not RFC 3339', variant((e) => (e.occurredAt = '2026-11-20 03:15:00'))],
    ['occurredAt an hour ahead', variant((e) => (e.occurredAt = new Date(Date.now() + 3_600_000).toISOString()))],
    ['occurredAt before 2000', variant((e) => (e.occurredAt = '1999-12-31T23:59:59Z'))],
    ['no kind', variant((e) => delete e.paymentCompleted)],
    ['two kinds', variant((e) => (e.paymentFailed = { ...body(e), reason: 'card declined' }))],
    ['unknown top-level field', variant((e) => (e.note = 'x'))],
    ['unknown nested field', variant((e) => (body(e).amount.fee = '1'))],
    ['empty paymentId', variant((e) => (body(e).paymentId = ''))],
    ['control character in storeId', variant((e) => (body(e).storeId = 's-\u0007'))],
    ['unknown method', variant((e) => (body(e).method = 'PAYMENT_METHOD_CASH'))],
    ['missing amount', variant((e) => delete body(e).amount)],
    ['unknown currency', variant((e) => (body(e).amount.currency = 'XYZ'))],
    ['withdrawn currency HRK', variant((e) => (body(e).amount.currency = 'HRK'))],
    ['negative minorUnits', variant((e) => (body(e).amount.minorUnits = '-5'))],
    ['zero minorUnits', variant((e) => (body(e).amount.minorUnits = '0'))],
    ['fractional minorUnits', variant((e) => (body(e).amount.minorUnits = 12.5))],
    ['minorUnits over int64', variant((e) => (body(e).amount.minorUnits = '9223372036854775808'))],
  ];
}

/** Why each side refused a request (--verbose): to see that both refuse it for the same field. */
async function reasons(request: unknown): Promise<string> {
  const leaves: string[] = [];
  const walk = (errors: ValidationError[], path: string) => {
    for (const e of errors) {
      const at = path === '' ? e.property : `${path}.${e.property}`;
      if (e.constraints) leaves.push(`${at} [${Object.keys(e.constraints).join(', ')}]`);
      walk(e.children ?? [], at);
    }
  };
  walk(await validate(plainToInstance(RecordRequestDto, request) as object, VALIDATOR_OPTIONS), '');
  const ours = validateRecordRequest(request, { now: new Date(), maxFutureSkewMs: MAX_FUTURE_SKEW_MS });
  const oursText = ours.ok ? 'accepted' : ours.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return `class-validator ${leaves.join('; ') || 'accepted'} | ours ${oursText}`;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fixed = (n: number, digits = 1) => n.toFixed(digits);

async function timeRound(check: Check, bodies: unknown[]): Promise<{ wallUs: number; cpuUs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (const body of bodies) if (!(await check(body))) throw new Error('a valid body was refused while timing');
  const wallUs = (performance.now() - start) * 1000;
  const used = process.cpuUsage(cpu);
  const events = bodies.length * BATCH;
  return { wallUs: wallUs / events, cpuUs: (used.user + used.system) / events };
}

async function main(): Promise<void> {
  const factory = new EventFactory(10_000);
  // Parsed once, as the API's JSON.parse would hand them over; neither side mutates its input.
  const bodies = Array.from({ length: BODIES }, () => JSON.parse(factory.nextBody(BATCH).toString('utf8')) as unknown);
  const kinds = { completed: 0, failed: 0, refunded: 0 };
  for (const b of bodies as Array<{ events: Record<string, unknown>[] }>) {
    for (const e of b.events) kinds[e.paymentCompleted ? 'completed' : e.paymentFailed ? 'failed' : 'refunded']++;
  }
  const total = BODIES * BATCH;
  console.log(`Validator lab · Node ${process.version} · ${BODIES} bodies × ${BATCH} events (bench:ingest's EventFactory: ` +
    `${fixed((100 * kinds.completed) / total)} % completed / ${fixed((100 * kinds.failed) / total)} % failed / ` +
    `${fixed((100 * kinds.refunded) / total)} % refunded), parsed once; JSON.parse is in no timing`);

  // Equivalent work: every method accepts every generated body and refuses every broken one.
  let disagreements = 0;
  for (const m of METHODS_UNDER_TEST) {
    let accepted = 0;
    for (const body of bodies) if (await m.accepts(body)) accepted++;
    if (accepted !== BODIES) disagreements++;
    console.log(`  valid bodies accepted by ${m.name}: ${accepted} / ${BODIES}`);
  }
  const template = (bodies[0] as { events: Record<string, any>[] }).events.find((e) => e.paymentCompleted)!;
  const cases = invalidRequests(template);
  let refusedByAll = 0;
  for (const [label, request] of cases) {
    const verdicts = await Promise.all(METHODS_UNDER_TEST.map((m) => m.accepts(request)));
    if (VERBOSE) console.log(`    ${label}: ${await reasons(request)}`);
    if (!verdicts.some((ok) => ok)) refusedByAll++;
    else {
      disagreements++;
      console.log(`  NOT refused by all: ${label} (${METHODS_UNDER_TEST.map((m, i) => `${m.name}: ${verdicts[i] ? 'accepted' : 'refused'}`).join('; ')})`);
    }
  }
  console.log(`  broken requests (${cases.map(([label]) => label).join(', ')}) refused by all three: ${refusedByAll} / ${cases.length}`);
  if (disagreements > 0) {
    process.exitCode = 1;
    return;
  }

  for (let w = 0; w < 2; w++) for (const m of METHODS_UNDER_TEST) await timeRound(m.accepts, bodies);
  const samples = METHODS_UNDER_TEST.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let r = 0; r < ROUNDS; r++) {
    // Rotating the order spreads machine drift and leftover garbage over all methods alike.
    for (let k = 0; k < METHODS_UNDER_TEST.length; k++) {
      const i = (r + k) % METHODS_UNDER_TEST.length;
      const t = await timeRound(METHODS_UNDER_TEST[i]!.accepts, bodies);
      samples[i]!.wall.push(t.wallUs);
      samples[i]!.cpu.push(t.cpuUs);
    }
  }

  console.log(`\nµs per event, median of ${ROUNDS} rounds after 2 warm-up passes (wall / process CPU, min–max CPU):`);
  const cpu = samples.map((s) => median(s.cpu));
  METHODS_UNDER_TEST.forEach((m, i) => {
    const s = samples[i]!;
    console.log(`  ${m.name.padEnd(48)} ${fixed(median(s.wall)).padStart(6)} / ${fixed(cpu[i]!).padStart(6)}   (${fixed(Math.min(...s.cpu))}–${fixed(Math.max(...s.cpu))})`);
  });
  console.log('  (the hand-written validator also builds each event\'s canonical JSON and its SHA-256, and parses amounts to bigint)');
  const [plain, viaPipe, ours] = cpu as [number, number, number];
  console.log(`\nratio, CPU: plainToInstance + validate / hand-written = ${fixed(plain / ours)}×; ValidationPipe / hand-written = ${fixed(viaPipe / ours)}×`);
  console.log(`ingest budget (BENCHMARKS.md, bench:ingest): ${INGEST_CPU_US} µs CPU per event all-in, ${API_CPU_US} in the command API.`);
  console.log(`  class-validator (plainToInstance + validate) alone: ${fixed((100 * plain) / API_CPU_US, 0)} % of the API's share, ` +
    `${fixed((100 * plain) / INGEST_CPU_US, 0)} % of the whole; the hand-written validator: ${fixed((100 * ours) / API_CPU_US, 0)} % and ` +
    `${fixed((100 * ours) / INGEST_CPU_US, 0)} %.`);
  console.log(`  Swapping it in would cost ≈ ${fixed(plain - ours)} µs more per event: ${INGEST_CPU_US} → ${fixed(INGEST_CPU_US + plain - ours)} µs, ` +
    `i.e. 2 cores would allow ≈ ${Math.round(2e6 / (INGEST_CPU_US + plain - ours)).toLocaleString('en-US')} instead of ` +
    `${Math.round(2e6 / INGEST_CPU_US).toLocaleString('en-US')} events/s.`);
}

await main();
