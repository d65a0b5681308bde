/** The GraphQL operations of the announcements pages; their types are generated (npm run web:types). */
import { operation } from '../../../lib';
import type * as G from '../../../generated/operations';

export type Announcement = G.ConsoleAnnouncementsResult['operatorAnnouncements']['nodes'][number];
export type AnnouncementStatus = Announcement['status'];
export type TargetPackage = G.ConsoleAnnouncementPackagesResult['permissionPackages'][number];

const ANNOUNCEMENT = /* GraphQL */ `id title body publishedAt status emailedAt createdBy packages { id name }`;

export const ANNOUNCEMENTS = operation<G.ConsoleAnnouncementsResult, G.ConsoleAnnouncementsVariables>(/* GraphQL */ `
  query ConsoleAnnouncements($first: Int!, $after: String) {
    operatorAnnouncements(first: $first, after: $after) {
      nodes { ${ANNOUNCEMENT} }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const ANNOUNCEMENT_PACKAGES = operation<G.ConsoleAnnouncementPackagesResult, G.ConsoleAnnouncementPackagesVariables>(/* GraphQL */ `
  query ConsoleAnnouncementPackages {
    permissionPackages { id name tier }
  }
`);

export const CREATE_ANNOUNCEMENT = operation<G.ConsoleCreateAnnouncementResult, G.ConsoleCreateAnnouncementVariables>(/* GraphQL */ `
  mutation ConsoleCreateAnnouncement($input: CreateAnnouncementInput!) {
    createAnnouncement(input: $input) { ${ANNOUNCEMENT} }
  }
`);

export const UPDATE_ANNOUNCEMENT = operation<G.ConsoleUpdateAnnouncementResult, G.ConsoleUpdateAnnouncementVariables>(/* GraphQL */ `
  mutation ConsoleUpdateAnnouncement($input: UpdateAnnouncementInput!) {
    updateAnnouncement(input: $input) { ${ANNOUNCEMENT} }
  }
`);

export const PUBLISH_ANNOUNCEMENT = operation<G.ConsolePublishAnnouncementResult, G.ConsolePublishAnnouncementVariables>(/* GraphQL */ `
  mutation ConsolePublishAnnouncement($input: PublishAnnouncementInput!) {
    publishAnnouncement(input: $input) { ${ANNOUNCEMENT} }
  }
`);

export const WITHDRAW_ANNOUNCEMENT = operation<G.ConsoleWithdrawAnnouncementResult, G.ConsoleWithdrawAnnouncementVariables>(/* GraphQL */ `
  mutation ConsoleWithdrawAnnouncement($input: WithdrawAnnouncementInput!) {
    withdrawAnnouncement(input: $input) { ${ANNOUNCEMENT} }
  }
`);
