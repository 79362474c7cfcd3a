// EventBridge in the lab cloud: the default and custom buses deliver to Lambda, SNS, SQS and log
// groups (bus.ts); PutEvents and rule changes go through extension.ts; patterns in pattern/.
export { EventBus, eventsService } from './bus.ts';
