import { ApiError } from '../../../gateway/api-error.ts';

const PREFIX = 'Event pattern is not valid. Reason: ';

/**
 * An event pattern EventBridge would refuse. `message` is what AWS returns, e.g.
 *   Event pattern is not valid. Reason: "source" must be an object or an array
 *    at [Source: (String)"{"source": "aws.ec2"}"; line: 1, column: 21]
 * `reason` is the part after "Reason: " without the location.
 */
export class InvalidEventPatternException extends ApiError {
  readonly reason: string;

  constructor(reason: string, location?: string | string[]) {
    const locations = location === undefined ? [] : Array.isArray(location) ? location : [location];
    super(400, 'InvalidEventPatternException', PREFIX + reason + locations.map((l) => `\n at ${l}`).join(''));
    this.name = 'InvalidEventPatternException';
    this.reason = reason;
  }
}

/** TestEventPattern's answer to an event that is not an EventBridge event. */
export class EventValidationException extends ApiError {
  constructor(message = 'Parameter Event is not valid.') {
    super(400, 'ValidationException', message);
    this.name = 'ValidationException';
  }
}
