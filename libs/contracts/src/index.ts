export * from './gen/payments/v1/payment_events_pb.js';
