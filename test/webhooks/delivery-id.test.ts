import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deliveryIdFrom } from '../../src/webhooks/delivery-id.ts'

const plain = { dedupe_header: null }

test('GitHub and Standard Webhooks ids are recognised', () => {
  assert.equal(deliveryIdFrom(plain, { 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' }), '72d3162e-cc78-11e3-81ab-4c9367dc0958')
  assert.equal(deliveryIdFrom(plain, { 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek' }), 'msg_p5jXN8AQM9LWM0D4loKWxJek')
})

test('a configured dedupe header wins, matched case-insensitively', () => {
  const hook = { dedupe_header: 'X-Request-Id' }
  const headers = { 'x-request-id': 'req-1', 'x-github-delivery': 'gh-1', 'webhook-id': 'wh-1' }
  assert.equal(deliveryIdFrom(hook, headers), 'req-1')
  assert.equal(deliveryIdFrom(hook, { 'x-github-delivery': 'gh-1' }), 'gh-1')
  assert.equal(deliveryIdFrom(plain, { 'x-request-id': 'req-1' }), null)
})

test('no id, or an unusable one, gives null', () => {
  assert.equal(deliveryIdFrom(plain, {}), null)
  assert.equal(deliveryIdFrom(plain, { 'webhook-id': '' }), null)
  assert.equal(deliveryIdFrom(plain, { 'webhook-id': '   ' }), null)
  assert.equal(deliveryIdFrom(plain, { 'webhook-id': 'x'.repeat(201) }), null)
  assert.equal(deliveryIdFrom(plain, { 'webhook-id': 'has space' }), null)
  assert.equal(deliveryIdFrom(plain, { 'webhook-id': 'ünïcode' }), null)
  assert.equal(deliveryIdFrom(plain, { 'webhook-id': ['a', 'b'] }), null)
  assert.equal(deliveryIdFrom(plain, { 'webhook-id': ['a'] }), 'a')
  assert.equal(deliveryIdFrom(plain, { 'x-github-delivery': 'bad id', 'webhook-id': 'good' }), 'good')
  assert.equal(deliveryIdFrom(plain, { 'webhook-id': ' padded ' }), 'padded')
})
